package dev.advinterp.nn.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The project's one JSON reader and writer: strict enough for a safetensors header read from an
 * untrusted file, and what every command uses for its results, settings and reports. Written
 * here rather than taken from a library so the weight readers stay dependency-free and their
 * limits (depth, duplicate keys, strict UTF-8) stay in view. Objects become
 * {@link LinkedHashMap} (key order kept, duplicate keys refused), arrays {@link ArrayList},
 * integers {@link Long} (or {@link BigInteger} when too large), other numbers {@link Double},
 * {@code null} Java null. Parsing works on the raw UTF-8 bytes so that an error can name the
 * exact byte offset.
 */
public final class Json {

    /** A syntax error at a byte offset of the parsed range. */
    public static final class SyntaxException extends Exception {
        final int offset;

        SyntaxException(int offset, String message) {
            super(message);
            this.offset = offset;
        }

        /** The byte offset of the error in the parsed text. */
        public int offset() {
            return offset;
        }
    }

    /** Nesting deeper than this is refused instead of risking a stack overflow on hostile input. */
    private static final int MAX_DEPTH = 64;

    private final byte[] b;
    private final int end;
    private final boolean nonFinite;
    private int pos;

    private Json(byte[] b, int start, int end, boolean nonFinite) {
        this.b = b;
        this.pos = start;
        this.end = end;
        this.nonFinite = nonFinite;
    }

    /** Parses one JSON value filling {@code b[start, end)} (surrounding whitespace allowed). */
    public static Object parse(byte[] b, int start, int end) throws SyntaxException {
        return parse(b, start, end, false);
    }

    private static Object parse(byte[] b, int start, int end, boolean nonFinite) throws SyntaxException {
        Json p = new Json(b, start, end, nonFinite);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos != end) throw p.error("unexpected " + p.describe() + " after the end of the JSON value");
        return v;
    }

    /**
     * Parses a JSON text; {@code source} (a file name) starts the message of a syntax error.
     * {@code allowNonFinite} also takes the bare {@code NaN}, {@code Infinity} and
     * {@code -Infinity} that some writers (JMH, Python's json) put for undefined numbers.
     */
    public static Object parse(String text, String source, boolean allowNonFinite) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try {
            return parse(bytes, 0, bytes.length, allowNonFinite);
        } catch (SyntaxException e) {
            throw new IllegalArgumentException(source + ": not valid JSON at byte " + e.offset + ": " + e.getMessage(), e);
        }
    }

    /** Reads a file holding one JSON object; anything else is an error naming the file. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readObject(java.nio.file.Path file) throws java.io.IOException {
        Object v = parse(java.nio.file.Files.readString(file, StandardCharsets.UTF_8), file.toString(), false);
        if (!(v instanceof Map<?, ?>)) throw new IllegalArgumentException(file + ": expected a JSON object");
        return (Map<String, Object>) v;
    }

    private Object value(int depth) throws SyntaxException {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
        if (pos >= end) throw error("unexpected end of the JSON text, expected a value");
        return switch (b[pos]) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            case 'N' -> nonFinite("NaN", Double.NaN);
            case 'I' -> nonFinite("Infinity", Double.POSITIVE_INFINITY);
            default -> {
                if (nonFinite && b[pos] == '-' && pos + 1 < end && b[pos + 1] == 'I') {
                    pos++;
                    yield nonFinite("Infinity", Double.NEGATIVE_INFINITY);
                }
                if (b[pos] == '-' || (b[pos] >= '0' && b[pos] <= '9')) yield number();
                throw error("unexpected " + describe() + ", expected a value");
            }
        };
    }

    private LinkedHashMap<String, Object> object(int depth) throws SyntaxException {
        pos++;
        LinkedHashMap<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') throw error("unexpected " + describe() + ", expected a string key");
            int keyAt = pos;
            String key = string();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object v = value(depth + 1);
            if (map.containsKey(key)) throw new SyntaxException(keyAt, "duplicate key \"" + key + "\"");
            map.put(key, v);
            skipWhitespace();
            if (peek() == ',') {
                pos++;
            } else if (peek() == '}') {
                pos++;
                return map;
            } else {
                throw error("unexpected " + describe() + ", expected ',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) throws SyntaxException {
        pos++;
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth + 1));
            skipWhitespace();
            if (peek() == ',') {
                pos++;
            } else if (peek() == ']') {
                pos++;
                return list;
            } else {
                throw error("unexpected " + describe() + ", expected ',' or ']'");
            }
        }
    }

    private String string() throws SyntaxException {
        pos++;
        StringBuilder sb = new StringBuilder();
        int run = pos;
        while (true) {
            if (pos >= end) throw error("unterminated string");
            int c = b[pos] & 0xFF;
            if (c == '"') {
                appendUtf8(sb, run, pos);
                pos++;
                return sb.toString();
            }
            if (c < 0x20) throw error("control character 0x" + Integer.toHexString(c) + " inside a string");
            if (c != '\\') {
                pos++;
                continue;
            }
            appendUtf8(sb, run, pos);
            int escapeAt = pos;
            pos++;
            if (pos >= end) throw error("unterminated string");
            char e = (char) b[pos++];
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    char u = hex4();
                    if (Character.isHighSurrogate(u)) {
                        if (pos + 1 < end && b[pos] == '\\' && b[pos + 1] == 'u') {
                            pos += 2;
                            char low = hex4();
                            if (!Character.isLowSurrogate(low)) throw new SyntaxException(escapeAt, "unpaired surrogate in \\u escape");
                            sb.append(u).append(low);
                        } else {
                            throw new SyntaxException(escapeAt, "unpaired surrogate in \\u escape");
                        }
                    } else if (Character.isLowSurrogate(u)) {
                        throw new SyntaxException(escapeAt, "unpaired surrogate in \\u escape");
                    } else {
                        sb.append(u);
                    }
                }
                default -> throw new SyntaxException(escapeAt, "invalid escape \\" + printable(e) + " in a string");
            }
            run = pos;
        }
    }

    private char hex4() throws SyntaxException {
        if (pos + 4 > end) throw error("truncated \\u escape");
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(b[pos + i], 16);
            if (d < 0) throw new SyntaxException(pos + i, "invalid hex digit in a \\u escape");
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private void appendUtf8(StringBuilder sb, int from, int to) throws SyntaxException {
        if (from == to) return;
        // A strict decoder: silently replacing bad bytes would turn a corrupt name into a valid one.
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer cb = dec.decode(ByteBuffer.wrap(b, from, to - from));
            sb.append(cb);
        } catch (CharacterCodingException e) {
            throw new SyntaxException(from, "invalid UTF-8 in a string");
        }
    }

    private Object number() throws SyntaxException {
        int start = pos;
        if (peek() == '-') pos++;
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            while (isDigit(peek())) pos++;
        } else {
            throw error("invalid number");
        }
        boolean integral = true;
        if (peek() == '.') {
            integral = false;
            pos++;
            if (!isDigit(peek())) throw error("invalid number: a digit must follow '.'");
            while (isDigit(peek())) pos++;
        }
        if (peek() == 'e' || peek() == 'E') {
            integral = false;
            pos++;
            if (peek() == '+' || peek() == '-') pos++;
            if (!isDigit(peek())) throw error("invalid number: a digit must follow the exponent");
            while (isDigit(peek())) pos++;
        }
        String text = new String(b, start, pos - start, StandardCharsets.US_ASCII);
        if (!integral) return Double.parseDouble(text);
        BigInteger big = new BigInteger(text);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
    }

    private Object literal(String word, Object v) throws SyntaxException {
        for (int i = 0; i < word.length(); i++) {
            if (pos + i >= end || b[pos + i] != word.charAt(i)) throw error("unexpected " + describe() + ", expected a value");
        }
        pos += word.length();
        return v;
    }

    private Object nonFinite(String word, double v) throws SyntaxException {
        if (!nonFinite) throw error("unexpected " + describe() + ", expected a value");
        return literal(word, v);
    }

    private void expect(char c) throws SyntaxException {
        if (peek() != c) throw error("unexpected " + describe() + ", expected '" + c + "'");
        pos++;
    }

    private int peek() {
        return pos < end ? b[pos] & 0xFF : -1;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private void skipWhitespace() {
        while (pos < end && (b[pos] == ' ' || b[pos] == '\t' || b[pos] == '\n' || b[pos] == '\r')) pos++;
    }

    private String describe() {
        if (pos >= end) return "end of the JSON text";
        return "character " + printable((char) (b[pos] & 0xFF));
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7F ? "'" + c + "'" : String.format("0x%02x", (int) c);
    }

    private SyntaxException error(String message) {
        return new SyntaxException(pos, message);
    }

    // ---- writing ----

    /**
     * The compact JSON text of a value built from maps with string keys, lists, strings, numbers,
     * booleans and null: the form serde_json emits, which is what safetensors files hold. A
     * number that is not finite is written as null (JSON has no NaN).
     */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, -1);
        return sb.toString();
    }

    /** The same, indented by two spaces per level and ending with a newline: for files a person reads. */
    public static String pretty(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.append('\n').toString();
    }

    private static void newline(StringBuilder sb, int indent) {
        if (indent < 0) return;
        sb.append('\n');
        sb.append("  ".repeat(indent));
    }

    private static void write(StringBuilder sb, Object v, int indent) {
        int inner = indent < 0 ? -1 : indent + 1;
        switch (v) {
            case null -> sb.append("null");
            case String s -> writeString(sb, s);
            case Long l -> sb.append(l.longValue());
            case Integer i -> sb.append(i.intValue());
            case BigInteger i -> sb.append(i);
            case Double d -> sb.append(Double.isFinite(d) ? d.toString() : "null");
            case Float f -> sb.append(Float.isFinite(f) ? f.toString() : "null");
            case Boolean bo -> sb.append(bo.booleanValue());
            case Map<?, ?> m -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) sb.append(',');
                    first = false;
                    newline(sb, inner);
                    writeString(sb, (String) e.getKey());
                    sb.append(indent < 0 ? ":" : ": ");
                    write(sb, e.getValue(), inner);
                }
                if (!m.isEmpty()) newline(sb, indent);
                sb.append('}');
            }
            case List<?> l -> {
                sb.append('[');
                // Lists of numbers stay on one line: a histogram of 50 bins is one line, not 50.
                boolean flat = l.stream().allMatch(x -> x == null || x instanceof Number || x instanceof Boolean);
                for (int i = 0; i < l.size(); i++) {
                    if (i > 0) sb.append(flat && indent >= 0 ? ", " : ",");
                    if (!flat) newline(sb, inner);
                    write(sb, l.get(i), inner);
                }
                if (!flat && !l.isEmpty()) newline(sb, indent);
                sb.append(']');
            }
            default -> throw new IllegalArgumentException("cannot write a " + v.getClass().getSimpleName() + " as JSON");
        }
    }

    private static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
