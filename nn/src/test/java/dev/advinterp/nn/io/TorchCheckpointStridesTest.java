package dev.advinterp.nn.io;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Strided views of a storage, built by hand, against a direct index-by-index reading. */
class TorchCheckpointStridesTest {

    /**
     * A view: its sizes (rank 0 to 4), a stride for each of four dimensions (the first {@code rank}
     * used), its storage offset, and the storage's elements beyond the view's last.
     */
    record View(List<Integer> sizes, List<Integer> strides, int offset, int slack) {
    }

    /** 300 views from a fixed seed; each draw is an end of its range one time in four. */
    static Stream<View> views() {
        SplittableRandom r = new SplittableRandom(601);
        return IntStream.range(0, 300).mapToObj(i -> {
            List<Integer> sizes = IntStream.range(0, between(r, 0, 4)).mapToObj(d -> between(r, 0, 4)).toList();
            List<Integer> strides = IntStream.range(0, 4).mapToObj(d -> between(r, 0, 6)).toList();
            return new View(sizes, strides, between(r, 0, 3), between(r, 0, 2));
        }).toList().stream();
    }

    private static int between(SplittableRandom r, int min, int max) {
        int u = r.nextInt(8);
        return u == 0 ? min : u == 1 ? max : r.nextInt(min, max + 1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("views")
    void anyViewGathersToRowMajorOrder(View v) throws IOException {
        List<Integer> sizes = v.sizes(), strides = v.strides();
        int offset = v.offset(), slack = v.slack();
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

    /** A file of a few hundred bytes once materialised gigabytes of stride-0 views (and ended in an OutOfMemoryError). */
    @org.junit.jupiter.api.Test
    void expandedViewsMayNotTurnATinyFileIntoGigabytes() throws IOException {
        long n = 1L << 28; // one float, viewed 2^28 times: a 1 GiB tensor
        Path f = Fixtures.oneStorageCheckpoint(PickleBytes.oneTensor("t", "FloatStorage", "0", 1, 0, new long[]{n}, new long[]{0}),
                Fixtures.floats(1, ByteOrder.LITTLE_ENDIAN), null);
        try {
            assertTrue(Files.size(f) < 4096, Files.size(f) + " bytes");
            var e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.read(f));
            assertTrue(e.getMessage().contains("expanded (stride-0) tensors may add at most") && e.getMessage().contains(f.toString()), e.getMessage());
        } finally {
            Files.delete(f);
        }
        // within the allowance, an expanded view is still read (as torchvision's fixture of expanded weights is)
        Path g = Fixtures.oneStorageCheckpoint(PickleBytes.oneTensor("t", "FloatStorage", "0", 1, 0, new long[]{1000}, new long[]{0}),
                Fixtures.floats(1, ByteOrder.LITTLE_ENDIAN), null);
        try {
            org.junit.jupiter.api.Assertions.assertEquals(1000, TorchCheckpoint.read(g).get("t").numel());
        } finally {
            Files.delete(g);
        }
    }
}
