package dev.advinterp.nn.io;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnpicklerTest {

    private static final Path FILE = Path.of("some/checkpoint.pth");

    private static Object load(PickleBytes p) throws CheckpointFormatException {
        return Unpickler.load(FILE, "a/data.pkl", p.bytes());
    }

    private static String failure(PickleBytes p) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> load(p));
        assertTrue(e.getMessage().startsWith(FILE + ": a/data.pkl at byte "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void scalarsOfEveryEncoding() throws CheckpointFormatException {
        assertEquals(255L, load(new PickleBytes().op(0x80, 2, 'K', 255, '.')));
        assertEquals(65535L, load(new PickleBytes().op(0x80, 2, 'M', 0xFF, 0xFF, '.')));
        assertEquals(-2L, load(new PickleBytes().op(0x80, 2, 'J', 0xFE, 0xFF, 0xFF, 0xFF, '.')));
        assertEquals(0L, load(new PickleBytes().op(0x80, 2, 0x8a, 0, '.')));
        assertEquals(-1L, load(new PickleBytes().op(0x80, 2, 0x8a, 1, 0xFF, '.')));
        assertEquals(Long.MAX_VALUE, load(new PickleBytes().op(0x80, 2, 0x8a, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, '.')));
        assertEquals(BigInteger.ONE.shiftLeft(64), load(new PickleBytes().op(0x80, 2, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, '.')));
        assertEquals(1.5, load(new PickleBytes().op(0x80, 2, 'G', 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, '.')));
        assertEquals(Boolean.TRUE, load(new PickleBytes().op(0x80, 2, 0x88, '.')));
        assertNull(load(new PickleBytes().op(0x80, 2, 'N', '.')));
        assertEquals("é", load(new PickleBytes().op(0x80, 4, 0x8c, 2, 0xC3, 0xA9, '.')));
    }

    @Test
    void containersMemoAndProtocol4Framing() throws CheckpointFormatException {
        // protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE; {"a": [1, 2, 3], "b": (x, x)} with x memoised
        PickleBytes p = new PickleBytes().op(0x80, 4, 0x95, 30, 0, 0, 0, 0, 0, 0, 0)
                .op('}', 0x94, '(', 0x8c, 1, 'a', 0x94, ']', 0x94, 'K', 1, 'a', '(', 'K', 2, 'K', 3, 'e')
                .op(0x8c, 1, 'b', 'K', 9, 0x94, 'h', 3, 0x86, 'u', '.');
        Unpickler.Dict d = assertInstanceOf(Unpickler.Dict.class, load(p));
        assertEquals(List.of("a", "b"), new ArrayList<>(d.items.keySet()));
        assertEquals(List.of(1L, 2L, 3L), d.items.get("a"));
        assertEquals(new Unpickler.Tuple(List.of(9L, 9L)), d.items.get("b"));
    }

    @Test
    void orderedDictWithMetadataThroughBuild() throws CheckpointFormatException {
        PickleBytes p = new PickleBytes().op(0x80, 2).global("collections", "OrderedDict").op(')', 'R')
                .op('(').str("k").op('K', 1).op('u')
                .op('}').str("_metadata").op('}', 's', 'b', '.');
        Unpickler.Dict d = assertInstanceOf(Unpickler.Dict.class, load(p));
        assertEquals(1L, d.items.get("k"));
        assertInstanceOf(Unpickler.Dict.class, d.attributes.get("_metadata"));
    }

    @Test
    void aTensorAndAParameter() throws CheckpointFormatException {
        Object t = load(new PickleBytes().op(0x80, 2)
                .global("torch._utils", "_rebuild_parameter").op('(')
                .global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('(').str("storage").global("torch", "HalfStorage").str("7").str("cuda:0").integer(6).op('t', 'Q')
                .integer(1).tuple(2, 2).tuple(1, 2).op(0x89, '}', 't', 'R')
                .op(0x88, '}', 't', 'R', '.'));
        Unpickler.TensorRef ref = assertInstanceOf(Unpickler.TensorRef.class, t);
        assertEquals(new Unpickler.StorageRef("7", DType.F16, 6, "cuda:0"), ref.storage());
        assertEquals(1, ref.offset());
        assertEquals(List.of(2L, 2L), List.of(ref.size()[0], ref.size()[1]));
        assertEquals(List.of(1L, 2L), List.of(ref.stride()[0], ref.stride()[1]));
    }

    @Test
    void globalsOutsideTheAllowListAreRefusedByName() {
        String m = failure(new PickleBytes().op(0x80, 2).global("os", "system").str("echo unsafe").op(0x85, 'R', '.'));
        assertTrue(m.contains("'os.system'") && m.contains("not allowed"), m);
        m = failure(new PickleBytes().op(0x80, 4, 0x8c, 8).op("builtins".chars().toArray()).op(0x8c, 4).op("eval".chars().toArray())
                .op(0x93, '.'));
        assertTrue(m.contains("'builtins.eval'"), m);
        m = failure(new PickleBytes().op(0x80, 2).global("torchvision.models.resnet", "ResNet").op('.'));
        assertTrue(m.contains("'torchvision.models.resnet.ResNet'") && m.contains("model.state_dict()"), m);
        m = failure(new PickleBytes().op(0x80, 2).global("torch", "ComplexFloatStorage").op('.'));
        assertTrue(m.contains("torch.ComplexFloatStorage") && m.contains("no matching dtype"), m);
    }

    @Test
    void malformedPicklesAreNamedNotCrashed() {
        assertTrue(failure(new PickleBytes()).contains("without a STOP"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, 'X', 0xFF, 0xFF, 0xFF, 0x7F, 'a')).contains("truncated"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, 'h', 5, '.')).contains("memo slot 5, which was never stored"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, '0', '.')).contains("pops an empty stack"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, 't', '.')).contains("no MARK"));
        assertTrue(failure(new PickleBytes().op(0x80, 6, '.')).contains("protocol 6"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, 'i', '.')).contains("unsupported pickle opcode 0x69 ('i')"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, 'K', 1, ')', 'R', '.')).contains("not callable"));
        assertTrue(failure(new PickleBytes().op(0x80, 2).global("torch", "FloatStorage").op(')', 'R', '.')).contains("a type, not a function"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, ']', '}', 'b', '.')).contains("BUILD of a list"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, ']', 'K', 1, 'K', 2, 's', '.')).contains("SETITEM on a list"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, '}', ']', 'K', 2, 's', '.')).contains("cannot hash"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, 'K', 1, 'Q', '.')).contains("persistent id"));
        assertTrue(failure(new PickleBytes().op(0x80, 2, 'X', 2, 0, 0, 0, 0xC3, '"', '.')).contains("not valid UTF-8"));
        assertTrue(failure(new PickleBytes().op(0x80, 2).op('(').str("storage").global("torch", "FloatStorage").str("../x")
                .str("cpu").integer(1).op('t', 'Q', '.')).contains("not a plain name"));
    }
}
