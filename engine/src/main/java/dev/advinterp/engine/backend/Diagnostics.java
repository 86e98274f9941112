package dev.advinterp.engine.backend;

import java.util.ArrayList;
import java.util.List;

/**
 * What a backend can say about the machine it runs on, for a person to read ({@code advinterp
 * doctor}): lines of a key and a value, and blocks of text. Each backend fills its own
 * ({@code CpuBackend.diagnostics()}, {@code CudaBackend.diagnostics()}); {@link Backends#diagnostics()}
 * puts them together, so that a program shows them without knowing any backend's internals.
 */
public record Diagnostics(List<Item> items) {

    public Diagnostics {
        items = List.copyOf(items);
    }

    /** One item of a report. */
    public sealed interface Item permits Line, Text {
    }

    /** A key and its value, shown as one line. */
    public record Line(String key, String value) implements Item {
    }

    /** A block of text, shown as it is (its lines end with a newline). */
    public record Text(String text) implements Item {
    }

    /** These items, then {@code other}'s. */
    public Diagnostics and(Diagnostics other) {
        List<Item> all = new ArrayList<>(items);
        all.addAll(other.items);
        return new Diagnostics(all);
    }

    /** Collects items in order. */
    public static final class Builder {
        private final List<Item> items = new ArrayList<>();

        public Builder line(String key, String value) {
            items.add(new Line(key, value));
            return this;
        }

        public Builder text(String text) {
            items.add(new Text(text));
            return this;
        }

        public Diagnostics build() {
            return new Diagnostics(items);
        }
    }

    public static Builder builder() {
        return new Builder();
    }
}
