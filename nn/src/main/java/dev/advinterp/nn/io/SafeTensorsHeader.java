package dev.advinterp.nn.io;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * The validated header of a safetensors file: each tensor's dtype, shape and byte range in the
 * data section (in the order of the data), the free-form string metadata, and where the data
 * section starts in the file. Reading only this is cheap: it tells what a file holds without
 * touching the tensor bytes.
 */
public record SafeTensorsHeader(SequencedMap<String, Entry> tensors, Map<String, String> metadata, long dataStart) {

    public SafeTensorsHeader {
        tensors = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** One tensor: bytes {@code [begin, end)} of the data section. */
    public record Entry(DType dtype, long[] shape, long begin, long end) {

        public Entry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long byteSize() {
            return end - begin;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && e.dtype == dtype && Arrays.equals(e.shape, shape) && e.begin == begin && e.end == end;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(shape) * 31 + Long.hashCode(begin);
        }

        @Override
        public String toString() {
            return "Entry[" + dtype + " " + Arrays.toString(shape) + " @" + begin + ".." + end + "]";
        }
    }
}
