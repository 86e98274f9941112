package dev.advinterp.nn.io;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Strided views of a storage, built by hand, against a direct index-by-index reading. */
class TorchCheckpointStridesTest {

    @Property(tries = 300)
    void anyViewGathersToRowMajorOrder(@ForAll @Size(max = 4) List<@IntRange(max = 4) Integer> sizes,
                                       @ForAll @Size(4) List<@IntRange(max = 6) Integer> strides,
                                       @ForAll @IntRange(max = 3) int offset,
                                       @ForAll @IntRange(max = 2) int slack) throws IOException {
        int rank = sizes.size();
        long[] size = new long[rank], stride = new long[rank];
        long numel = 1, last = offset;
        for (int i = 0; i < rank; i++) {
            size[i] = sizes.get(i);
            stride[i] = strides.get(i);
            numel *= size[i];
            if (size[i] > 0) last += (size[i] - 1) * stride[i];
        }
        int storageNumel = (int) (numel > 0 ? last + 1 : 0) + slack;
        Path f = Fixtures.oneStorageCheckpoint(PickleBytes.oneTensor("t", "FloatStorage", "0", storageNumel, offset, size, stride),
                Fixtures.floats(storageNumel, ByteOrder.LITTLE_ENDIAN), null);
        try {
            float[] expected = new float[(int) numel];
            long[] index = new long[rank];
            for (int e = 0; e < numel; e++) {
                long at = offset;
                for (int d = 0; d < rank; d++) at += index[d] * stride[d];
                expected[e] = at;
                for (int d = rank - 1; d >= 0 && ++index[d] == size[d]; d--) index[d] = 0;
            }
            HostTensor t = TorchCheckpoint.read(f).get("t");
            assertArrayEquals(size, t.shape());
            assertArrayEquals(expected, t.toFloats());
        } finally {
            Files.delete(f);
        }
        if (numel > 0 && slack == 0) {
            // One element short: the view reaches past its storage.
            Path g = Fixtures.oneStorageCheckpoint(PickleBytes.oneTensor("t", "FloatStorage", "0", storageNumel - 1, offset, size, stride),
                    Fixtures.floats(storageNumel - 1, ByteOrder.LITTLE_ENDIAN), null);
            try {
                CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.read(g));
                assertTrue(e.getMessage().startsWith(g.toString()) && e.getMessage().contains("reaches element " + last), e.getMessage());
            } finally {
                Files.delete(g);
            }
        }
    }
}
