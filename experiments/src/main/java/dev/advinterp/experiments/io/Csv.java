package dev.advinterp.experiments.io;

import dev.advinterp.engine.io.AtomicFile;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.QuoteMode;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * The project's CSV, on Apache Commons CSV, in the dialect NetDissect reads and writes (Python's
 * csv module defaults): comma separated, fields in double quotes only where they must be, {@code ""}
 * for a quote, a header line naming the columns, blank lines ignored, {@code \n} line ends. Rows
 * keep the line they started on, so every complaint can name file and line.
 */
public final class Csv {

    /** The dialect, for reading and writing alike. */
    public static final CSVFormat FORMAT = CSVFormat.RFC4180.builder()
            .setRecordSeparator("\n")
            .setQuoteMode(QuoteMode.MINIMAL)
            .setIgnoreEmptyLines(true)
            .get();

    public record Row(Table table, int line, String[] fields) {

        public String get(String column) {
            return fields[table.column(column)];
        }

        public int integer(String column) {
            String v = get(column).strip();
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw error(column + " '" + v + "' is not a whole number");
            }
        }

        public long longInteger(String column) {
            String v = get(column).strip();
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw error(column + " '" + v + "' is not a whole number");
            }
        }

        public double decimal(String column) {
            String v = get(column).strip();
            try {
                if (v.isEmpty()) throw new NumberFormatException();
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw error(column + " '" + v + "' is not a number");
            }
        }

        public IllegalArgumentException error(String what) {
            return new IllegalArgumentException(table.file() + " line " + line + ": " + what);
        }
    }

    public record Table(Path file, List<String> header, List<Row> rows) {

        public int column(String name) {
            int i = header.indexOf(name);
            if (i < 0) throw new IllegalArgumentException(file + ": no column '" + name + "' in the header " + String.join(",", header));
            return i;
        }

        /** Fails unless every named column is in the header, so a wrong file is named before any row is read. */
        public Table require(String... columns) {
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
    public static Table read(Path file, String missing) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(missing);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot be read (" + e.getMessage() + ")", e);
        }
        return parse(file, text);
    }

    /**
     * Reads a table that a run appends to row by row, or null if the file is absent or empty. A
     * last line without its line end (a write cut short by a kill) is removed from the file first,
     * so the run can append after the last complete row.
     */
    public static Table readAppended(Path file) throws IOException {
        if (!Files.exists(file)) return null;
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (!text.isEmpty() && !text.endsWith("\n")) {
            text = text.substring(0, text.lastIndexOf('\n') + 1);
            AtomicFile.writeString(file, text);
        }
        return text.isEmpty() ? null : parse(file, text);
    }

    /** Parses {@code text} as the content of {@code file} (named in errors). */
    public static Table parse(Path file, String text) {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        int[] lineStarts = lineStarts(text);
        List<String> header = null;
        List<Row> rows = new ArrayList<>();
        Table table = null;
        try (CSVParser parser = CSVParser.builder().setReader(new StringReader(text)).setFormat(FORMAT).get()) {
            Iterator<CSVRecord> it = parser.iterator();
            while (true) {
                // The next record starts after the line breaks read so far (blank lines are skipped, so this is a lower bound
                // used only when the record cannot be read at all).
                long linesRead = parser.getCurrentLineNumber();
                CSVRecord rec;
                try {
                    if (!it.hasNext()) break;
                    rec = it.next();
                } catch (UncheckedIOException | IllegalStateException e) {
                    String why = String.valueOf(e.getMessage());
                    throw new IllegalArgumentException(file + " line " + (linesRead + 1) + ": "
                            + (why.contains("EOF") ? "a quoted field is not closed before the end of the file" : why), e);
                }
                // The record's position may be that of blank lines skipped before it.
                int at = (int) rec.getCharacterPosition();
                while (at < text.length() && (text.charAt(at) == '\n' || text.charAt(at) == '\r')) at++;
                int line = lineOf(lineStarts, at);
                String[] fields = rec.values();
                if (header == null) {
                    header = Arrays.stream(fields).map(String::strip).toList();
                    table = new Table(file, header, rows);
                    continue;
                }
                if (fields.length != header.size()) {
                    throw new IllegalArgumentException(file + " line " + line + ": " + fields.length + " fields, the header has "
                            + header.size() + " (" + String.join(",", header) + "); quote fields that contain commas");
                }
                rows.add(new Row(table, line, fields));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot be parsed (" + e.getMessage() + ")", e);
        }
        if (header == null) throw new IllegalArgumentException(file + ": is empty, expected a header line");
        return new Table(file, header, List.copyOf(rows));
    }

    private static int[] lineStarts(String text) {
        int n = 1;
        for (int i = 0; i < text.length(); i++) if (text.charAt(i) == '\n') n++;
        int[] starts = new int[n];
        int k = 1;
        for (int i = 0; i < text.length(); i++) if (text.charAt(i) == '\n') starts[k++] = i + 1;
        return starts;
    }

    /** The 1-based line holding character {@code position}. */
    private static int lineOf(int[] starts, long position) {
        int i = Arrays.binarySearch(starts, (int) position);
        return (i >= 0 ? i : -i - 2) + 1;
    }

    /** One record as a line of text, ending with {@code \n}. */
    public static String line(Object... values) {
        StringBuilder b = new StringBuilder();
        try {
            FORMAT.printRecord(b, values);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringBuilder does not fail
        }
        return b.toString();
    }

    /** One record as a line of text, ending with {@code \n}. */
    public static String line(List<?> values) {
        return line(values.toArray());
    }

    /** Writes a whole table atomically: the header, then the rows. */
    public static void write(Path file, List<String> header, Iterable<? extends List<?>> rows) throws IOException {
        StringBuilder b = new StringBuilder(line(header));
        for (List<?> r : rows) b.append(line(r));
        AtomicFile.writeString(file, b);
    }
}
