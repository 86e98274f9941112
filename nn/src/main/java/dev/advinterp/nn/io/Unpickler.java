package dev.advinterp.nn.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted reader of Python pickles, enough for what {@code torch.save(state_dict)} writes.
 * It interprets the opcodes as a data description only: the few globals a state dict needs
 * ({@code collections.OrderedDict}, the tensor and parameter rebuild functions, the storage
 * types) are recognised by name and modelled here in Java; any other global is refused the
 * moment it appears, so nothing named by the file is ever looked up or run.
 *
 * <p>Values come out as: {@code String}, {@code Long} (or {@code BigInteger}), {@code Double},
 * {@code Boolean}, {@code null} for None, {@code byte[]}, {@link Tuple}, {@link ArrayList} for
 * lists, {@link Dict} for dicts and OrderedDicts, {@link StorageRef} for a persistent storage id
 * and {@link TensorRef} for a rebuilt tensor (a view of a storage, not yet read).
 */
final class Unpickler {

    /** A Python tuple; items may be null (None). */
    record Tuple(List<Object> items) {
        Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }
    }

    /** A dict or OrderedDict in insertion order, with the attributes BUILD gave it (the {@code _metadata} of a state dict). */
    static final class Dict {
        final LinkedHashMap<Object, Object> items = new LinkedHashMap<>();
        final Map<String, Object> attributes = new LinkedHashMap<>();
    }

    /** A storage of the archive: file {@code data/<key>}, {@code numel} elements of {@code dtype}. */
    record StorageRef(String key, DType dtype, long numel, String location) {
    }

    /** A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a strided view of a storage. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /** An allowed global; what it stands for is decided here, never by the file. */
    private record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    private static final Global ORDERED_DICT = new Global("collections", "OrderedDict");
    private static final Global REBUILD_TENSOR_V2 = new Global("torch._utils", "_rebuild_tensor_v2");
    private static final Global REBUILD_PARAMETER = new Global("torch._utils", "_rebuild_parameter");
    private static final Global REBUILD_PARAMETER_WITH_STATE = new Global("torch._utils", "_rebuild_parameter_with_state");

    /** The typed storage classes {@code torch.save} names in its persistent ids. */
    static final Map<String, DType> STORAGE_TYPES = Map.of(
            "FloatStorage", DType.F32, "DoubleStorage", DType.F64, "HalfStorage", DType.F16,
            "BFloat16Storage", DType.BF16, "LongStorage", DType.I64, "IntStorage", DType.I32,
            "ShortStorage", DType.I16, "CharStorage", DType.I8, "ByteStorage", DType.U8, "BoolStorage", DType.BOOL);

    private final Path file;
    private final String entry;
    private final byte[] b;
    private int pos;
    private int opAt;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();

    private Unpickler(Path file, String entry, byte[] pickle) {
        this.file = file;
        this.entry = entry;
        this.b = pickle;
    }

    /** The object the pickle describes; {@code entry} names the pickle inside {@code file} in messages. */
    static Object load(Path file, String entry, byte[] pickle) throws CheckpointFormatException {
        return new Unpickler(file, entry, pickle).run();
    }

    private Object run() throws CheckpointFormatException {
        while (true) {
            opAt = pos;
            if (pos >= b.length) throw fail("ends without a STOP opcode: the pickle is truncated");
            int op = b[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) throw fail("pickle protocol " + proto + " is newer than this reader (5 at most)");
                }
                case 0x95 -> bytes(8); // FRAME: a length hint only
                case '.' -> { // STOP
                    if (stack.isEmpty()) throw fail("STOP with an empty stack: the pickle is corrupt");
                    return stack.getLast();
                }
                case '(' -> { // MARK
                    marks.add(stack.size());
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(top()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) (u8() | u8() << 8)); // BININT2
                case 'J' -> push((long) le(4).getInt()); // BININT
                case 0x8a -> push(longOf(bytes(u8()))); // LONG1
                case 0x8b -> push(longOf(bytes(length(le(4).getInt() & 0xFFFFFFFFL)))); // LONG4
                case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
                case 'X' -> push(utf8(bytes(length(le(4).getInt() & 0xFFFFFFFFL)))); // BINUNICODE
                case 0x8c -> push(utf8(bytes(u8()))); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(bytes(length(le(8).getLong())))); // BINUNICODE8
                case 'T' -> push(utf8(bytes(length(le(4).getInt())))); // BINSTRING (Python 2 str)
                case 'U' -> push(utf8(bytes(u8()))); // SHORT_BINSTRING
                case 'B' -> push(bytes(length(le(4).getInt() & 0xFFFFFFFFL))); // BINBYTES
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 0x8e -> push(bytes(length(le(8).getLong()))); // BINBYTES8
                case '}' -> push(new Dict()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case 0x85 -> push(new Tuple(popN(1))); // TUPLE1
                case 0x86 -> push(new Tuple(popN(2))); // TUPLE2
                case 0x87 -> push(new Tuple(popN(3))); // TUPLE3
                case 't' -> push(new Tuple(popMark())); // TUPLE
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'd' -> { // DICT
                    Dict d = new Dict();
                    setItems(d, popMark());
                    push(d);
                }
                case 's' -> { // SETITEM
                    Object v = pop(), k = pop();
                    setItems(dictOnTop("SETITEM"), Arrays.asList(k, v));
                }
                case 'u' -> { // SETITEMS
                    List<Object> kv = popMark();
                    setItems(dictOnTop("SETITEMS"), kv);
                }
                case 'a' -> { // APPEND
                    Object v = pop();
                    listOnTop("APPEND").add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> vs = popMark();
                    listOnTop("APPENDS").addAll(vs);
                }
                case 'q' -> memo.put((long) u8(), top()); // BINPUT
                case 'r' -> memo.put(le(4).getInt() & 0xFFFFFFFFL, top()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), top()); // MEMOIZE
                case 'h' -> push(memoGet(u8())); // BINGET
                case 'j' -> push(memoGet(le(4).getInt() & 0xFFFFFFFFL)); // LONG_BINGET
                case 'c' -> { // GLOBAL
                    String module = line(), name = line();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw fail("STACK_GLOBAL needs two strings on the stack: the pickle is corrupt");
                    }
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(), callable = pop();
                    push(reduce(callable, args));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    build(top(), state);
                }
                case 'Q' -> push(persistent(pop())); // BINPERSID
                default -> throw fail(String.format("unsupported pickle opcode 0x%02x%s: this is not a state dict written by torch.save, or the file is corrupt",
                        op, op >= 0x20 && op < 0x7F ? " ('" + (char) op + "')" : ""));
            }
        }
    }

    // ---- the allow-list ----

    private Global global(String module, String name) throws CheckpointFormatException {
        Global g = new Global(module, name);
        if (g.equals(ORDERED_DICT) || g.equals(REBUILD_TENSOR_V2) || g.equals(REBUILD_PARAMETER)
                || g.equals(REBUILD_PARAMETER_WITH_STATE)) {
            return g;
        }
        if (module.equals("torch") && name.endsWith("Storage")) {
            if (STORAGE_TYPES.containsKey(name)) return g;
            throw fail("refers to the storage type torch." + name + ", which has no matching dtype here (supported: "
                    + STORAGE_TYPES.keySet().stream().sorted().map(s -> "torch." + s).toList() + ")");
        }
        throw fail("refers to the global '" + g.qualified() + "', which is not allowed: only collections.OrderedDict, "
                + "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch storage types may appear "
                + "in a state dict. The file was not loaded and nothing in it was run. If it holds a whole model or other "
                + "objects, save model.state_dict() with torch.save instead");
    }

    private Object reduce(Object callable, Object argsObject) throws CheckpointFormatException {
        if (!(argsObject instanceof Tuple(List<Object> args))) {
            throw fail("REDUCE arguments are " + kind(argsObject) + ", not a tuple: the pickle is corrupt");
        }
        if (!(callable instanceof Global g)) {
            throw fail("REDUCE calls " + kind(callable) + ", which is not callable: the pickle is corrupt");
        }
        if (g.equals(ORDERED_DICT)) {
            Dict d = new Dict();
            if (args.size() == 1 && args.getFirst() instanceof List<?> pairs) {
                for (Object p : pairs) {
                    if (!(p instanceof Tuple(List<Object> kv)) || kv.size() != 2) throw fail("OrderedDict built from something other than (key, value) pairs");
                    setItems(d, kv);
                }
            } else if (!args.isEmpty()) {
                throw fail("OrderedDict called with " + args.size() + " arguments: the pickle is corrupt");
            }
            return d;
        }
        if (g.equals(REBUILD_TENSOR_V2)) {
            if (args.size() < 6 || args.size() > 7) throw fail("_rebuild_tensor_v2 called with " + args.size() + " arguments, expected 6 or 7");
            if (!(args.get(0) instanceof StorageRef storage)) throw fail("_rebuild_tensor_v2 given " + kind(args.get(0)) + " instead of a storage");
            long offset = nonNegative(args.get(1), "storage offset");
            long[] size = longs(args.get(2), "size");
            long[] stride = longs(args.get(3), "stride");
            if (size.length != stride.length) {
                throw fail("tensor size " + Arrays.toString(size) + " and stride " + Arrays.toString(stride) + " differ in rank");
            }
            return new TensorRef(storage, offset, size, stride);
        }
        if (g.equals(REBUILD_PARAMETER) || g.equals(REBUILD_PARAMETER_WITH_STATE)) {
            if (args.isEmpty() || !(args.getFirst() instanceof TensorRef t)) {
                throw fail(g.name() + " given " + (args.isEmpty() ? "no arguments" : kind(args.getFirst())) + " instead of a tensor");
            }
            return t;
        }
        throw fail("REDUCE calls " + g.qualified() + ", which is a type, not a function: the pickle is corrupt");
    }

    private void build(Object target, Object state) throws CheckpointFormatException {
        // The only BUILD a state dict holds: OrderedDict.__reduce__ hands back the instance's
        // __dict__, which carries `_metadata` (module versions).
        if (target instanceof Dict d && state instanceof Dict s) {
            for (Map.Entry<Object, Object> e : s.items.entrySet()) {
                if (!(e.getKey() instanceof String k)) throw fail("BUILD with a non-string attribute name " + kind(e.getKey()));
                d.attributes.put(k, e.getValue());
            }
            return;
        }
        throw fail("BUILD of " + kind(target) + " from " + kind(state) + " is not supported in a state dict");
    }

    private StorageRef persistent(Object pid) throws CheckpointFormatException {
        if (!(pid instanceof Tuple(List<Object> t)) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw fail("persistent id " + kind(pid) + " is not a ('storage', type, key, location, numel) tuple");
        }
        if (!(t.get(1) instanceof Global g) || !g.module().equals("torch") || !STORAGE_TYPES.containsKey(g.name())) {
            throw fail("persistent id names " + kind(t.get(1)) + " instead of a torch storage type");
        }
        if (!(t.get(2) instanceof String key) || key.isEmpty() || key.contains("/") || key.contains("\\") || key.contains("..")) {
            throw fail("persistent id has the storage key " + kind(t.get(2)) + ", not a plain name");
        }
        String location = t.get(3) instanceof String s ? s : String.valueOf(t.get(3));
        long numel = nonNegative(t.get(4), "storage size");
        return new StorageRef(key, STORAGE_TYPES.get(g.name()), numel, location);
    }

    // ---- stack, memo and containers ----

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() throws CheckpointFormatException {
        int floor = marks.isEmpty() ? 0 : marks.getLast();
        if (stack.size() <= floor) throw fail("pops an empty stack: the pickle is corrupt");
        return stack.removeLast();
    }

    private Object top() throws CheckpointFormatException {
        if (stack.isEmpty()) throw fail("reads an empty stack: the pickle is corrupt");
        return stack.getLast();
    }

    private List<Object> popN(int n) throws CheckpointFormatException {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return Arrays.asList(items);
    }

    private List<Object> popMark() throws CheckpointFormatException {
        if (marks.isEmpty()) throw fail("has no MARK to pop to: the pickle is corrupt");
        int at = marks.removeLast();
        List<Object> items = new ArrayList<>(stack.subList(at, stack.size()));
        stack.subList(at, stack.size()).clear();
        return items;
    }

    private Object memoGet(long index) throws CheckpointFormatException {
        if (!memo.containsKey(index)) throw fail("reads memo slot " + index + ", which was never stored: the pickle is corrupt");
        return memo.get(index);
    }

    private Dict dictOnTop(String op) throws CheckpointFormatException {
        if (!(top() instanceof Dict d)) throw fail(op + " on " + kind(top()) + ", not a dict: the pickle is corrupt");
        return d;
    }

    @SuppressWarnings("unchecked")
    private List<Object> listOnTop(String op) throws CheckpointFormatException {
        if (!(top() instanceof ArrayList<?> l)) throw fail(op + " on " + kind(top()) + ", not a list: the pickle is corrupt");
        return (List<Object>) l;
    }

    private void setItems(Dict d, List<Object> kv) throws CheckpointFormatException {
        if (kv.size() % 2 != 0) throw fail("an odd number of items to set in a dict: the pickle is corrupt");
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            if (k instanceof Dict || k instanceof List<?> || k instanceof byte[] || k instanceof TensorRef) {
                throw fail("uses " + kind(k) + " as a dict key, which Python cannot hash: the pickle is corrupt");
            }
            d.items.put(k, kv.get(i + 1));
        }
    }

    // ---- raw reads ----

    private byte[] bytes(long n) throws CheckpointFormatException {
        if (n > b.length - pos) {
            throw fail("needs " + n + " more bytes but only " + (b.length - pos) + " remain: the pickle is truncated");
        }
        byte[] out = Arrays.copyOfRange(b, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    private int u8() throws CheckpointFormatException {
        return bytes(1)[0] & 0xFF;
    }

    private ByteBuffer le(int n) throws CheckpointFormatException {
        return ByteBuffer.wrap(bytes(n)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private long length(long n) throws CheckpointFormatException {
        if (n < 0) throw fail("declares a negative length " + n + ": the pickle is corrupt");
        return n;
    }

    private String line() throws CheckpointFormatException {
        int start = pos;
        while (pos < b.length && b[pos] != '\n') pos++;
        if (pos >= b.length) throw fail("ends inside a GLOBAL name: the pickle is truncated");
        String s = new String(b, start, pos - start, StandardCharsets.UTF_8);
        pos++;
        return s;
    }

    private String utf8(byte[] bytes) throws CheckpointFormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw fail("holds a string that is not valid UTF-8: the pickle is corrupt");
        }
    }

    /** Python's LONG1/LONG4 payload: little-endian two's complement. */
    private static Object longOf(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private long nonNegative(Object v, String what) throws CheckpointFormatException {
        if (!(v instanceof Long l) || l < 0) throw fail(what + " is " + kind(v) + ", not a non-negative integer");
        return l;
    }

    private long[] longs(Object v, String what) throws CheckpointFormatException {
        if (!(v instanceof Tuple(List<Object> items))) throw fail("tensor " + what + " is " + kind(v) + ", not a tuple");
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(items.get(i), "tensor " + what + " element " + i);
        return out;
    }

    static String kind(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> "the string '" + (s.length() > 60 ? s.substring(0, 60) + "…" : s) + "'";
            case Long l -> "the integer " + l;
            case BigInteger i -> "the integer " + i;
            case Double d -> "the float " + d;
            case Boolean bo -> bo ? "True" : "False";
            case byte[] bytes -> "bytes of length " + bytes.length;
            case Tuple t -> "a tuple of " + t.items().size();
            case List<?> l -> "a list of " + l.size();
            case Dict d -> "a dict of " + d.items.size();
            case StorageRef s -> "a storage";
            case TensorRef t -> "a tensor";
            case Global g -> g.qualified();
            default -> v.getClass().getSimpleName();
        };
    }

    private CheckpointFormatException fail(String message) {
        return new CheckpointFormatException(file, entry + " at byte " + opAt + ": " + message);
    }
}
