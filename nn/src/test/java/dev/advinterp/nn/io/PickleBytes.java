package dev.advinterp.nn.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Assembles pickle opcodes by hand, so tests can feed the unpickler exactly what they mean to. */
final class PickleBytes {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBytes op(int... bytes) {
        for (int b : bytes) out.write(b);
        return this;
    }

    PickleBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
        return this;
    }

    PickleBytes integer(long v) {
        op('J');
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(Math.toIntExact(v)).array());
        return this;
    }

    PickleBytes global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    PickleBytes tuple(long... values) {
        op('(');
        for (long v : values) integer(v);
        return op('t');
    }

    /** {@code {name: _rebuild_tensor_v2(storage, offset, size, stride, False, {})}}, as torch.save writes it. */
    static byte[] oneTensor(String name, String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        PickleBytes p = new PickleBytes().op(0x80, 2, '}', '(').str(name)
                .global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", storageType).str(key).str("cpu").integer(numel).op('t', 'Q')
                .integer(offset).tuple(size).tuple(stride).op(0x89, '}', 't', 'R', 'u', '.');
        return p.bytes();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
