package dev.advinterp.experiments.data.broden;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The CSV dialect NetDissect reads and writes (Python's csv module defaults): comma separated,
 * fields optionally in double quotes with "" for a quote, a header line naming the columns, blank
 * lines ignored. Rows keep the line they started on, so every complaint can name file and line.
 */
final class Csv {

    record Row(Table table, int line, String[] fields) {

        String get(String column) {
            return fields[table.column(column)];
        }

        int integer(String column) {
            String v = get(column).strip();
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw error(column + " '" + v + "' is not a whole number");
            }
        }

        double decimal(String column) {
            String v = get(column).strip();
            try {
                if (v.isEmpty()) throw new NumberFormatException();
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw error(column + " '" + v + "' is not a number");
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException(table.file() + " line " + line + ": " + what);
        }
    }

    record Table(Path file, List<String> header, List<Row> rows) {

        int column(String name) {
            int i = header.indexOf(name);
            if (i < 0) throw new IllegalArgumentException(file + ": no column '" + name + "' in the header " + String.join(",", header));
            return i;
        }

        /** Fails unless every named column is in the header, so a wrong file is named before any row is read. */
        Table require(String... columns) {
            for (String c : columns) {
                if (!header.contains(c)) {
                    throw new IllegalArgumentException(file + " line 1: the header lacks the column '" + c + "' (it has "
                            + String.join(",", header) + "; expected " + String.join(",", columns) + ")");
                }
            }
            return this;
        }
    }

    private Csv() {
    }

    /** Reads a whole table; a missing file is reported by {@code missing} (what the folder must hold). */
    static Table read(Path file, String missing) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(missing);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot be read (" + e.getMessage() + ")", e);
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<Parsed> records = parse(file, text);
        if (records.isEmpty()) throw new IllegalArgumentException(file + ": is empty, expected a header line");
        List<String> header = new ArrayList<>();
        for (String h : records.getFirst().fields) header.add(h.strip());
        Table table = new Table(file, List.copyOf(header), new ArrayList<>());
        for (int i = 1; i < records.size(); i++) {
            Parsed p = records.get(i);
            if (p.fields.length != header.size()) {
                throw new IllegalArgumentException(file + " line " + p.line + ": " + p.fields.length + " fields, the header has "
                        + header.size() + " (" + String.join(",", header) + "); quote fields that contain commas");
            }
            table.rows().add(new Row(table, p.line, p.fields));
        }
        return new Table(file, table.header(), List.copyOf(table.rows()));
    }

    private record Parsed(int line, String[] fields) {
    }

    private static List<Parsed> parse(Path file, String text) {
        List<Parsed> out = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int line = 1, start = 1, i = 0, n = text.length();
        boolean quoted = false, any = false;
        while (i < n) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < n && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i += 2;
                        continue;
                    }
                    quoted = false;
                } else {
                    if (c == '\n') line++;
                    field.append(c);
                }
                i++;
                continue;
            }
            switch (c) {
                case '"' -> {
                    quoted = true;
                    any = true;
                }
                case ',' -> {
                    fields.add(field.toString());
                    field.setLength(0);
                    any = true;
                }
                case '\r' -> {
                }
                case '\n' -> {
                    if (any || !field.isEmpty()) {
                        fields.add(field.toString());
                        out.add(new Parsed(start, fields.toArray(String[]::new)));
                    }
                    fields.clear();
                    field.setLength(0);
                    any = false;
                    line++;
                    start = line;
                }
                default -> field.append(c);
            }
            i++;
        }
        if (quoted) throw new IllegalArgumentException(file + " line " + start + ": a quoted field is not closed before the end of the file");
        if (any || !field.isEmpty()) {
            fields.add(field.toString());
            out.add(new Parsed(start, fields.toArray(String[]::new)));
        }
        return out;
    }

    /** One field as Python's csv writer would put it: quoted only when it must be. */
    static String field(String value) {
        if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) return value;
        return '"' + value.replace("\"", "\"\"") + '"';
    }

    static String line(Object... values) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) b.append(',');
            b.append(field(String.valueOf(values[i])));
        }
        return b.append('\n').toString();
    }
}
