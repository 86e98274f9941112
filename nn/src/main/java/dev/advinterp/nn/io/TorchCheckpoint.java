package dev.advinterp.nn.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Imports PyTorch checkpoints written by {@code torch.save(model.state_dict(), path)} in the zip
 * format PyTorch has used since 1.6: {@code <archive>/data.pkl} (the pickled state dict, whose
 * tensors refer to storages by key), {@code <archive>/data/<key>} (each storage's raw bytes),
 * {@code <archive>/version} and, since 2.0, {@code <archive>/byteorder}.
 *
 * <p>The pickle is read by a restricted unpickler that only knows the types a state dict uses
 * and runs nothing, so an untrusted file can be opened safely. A checkpoint that wraps the state
 * dict as {@code {"state_dict": ...}} or {@code {"model": ...}} (with an epoch, optimizer state and
 * so on beside it) is accepted too; only the state dict's storages are read.
 */
public final class TorchCheckpoint {

    private TorchCheckpoint() {
    }

    /** The state dict's tensors in the file's order, each gathered into contiguous row-major order. */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, Files.exists(file) ? "not a regular file" : "no such file");
        }
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (ZipException e) {
            throw notAZip(file, e);
        } catch (IOException e) {
            // EOFException and the like: a file too short or too damaged for the zip reader to find its directory.
            throw notAZip(file, new ZipException(e.toString()));
        }
        try (zip) {
            String prefix = archivePrefix(file, zip);
            String pklName = prefix + "data.pkl";
            ZipEntry pkl = zip.getEntry(pklName);
            if (pkl == null) {
                String hint = zip.getEntry(prefix + "constants.pkl") != null || zip.getEntry(prefix + "code/") != null
                        ? " This looks like a TorchScript archive (torch.jit.save): save model.state_dict() with torch.save instead."
                        : " It is a zip, but not one written by torch.save.";
                throw new CheckpointFormatException(file, "the archive has no " + pklName + "." + hint);
            }
            boolean bigEndian = byteOrderIsBig(file, zip, prefix);
            Object root = Unpickler.load(file, pklName, readEntry(file, zip, pkl, Long.MAX_VALUE));
            Unpickler.Dict stateDict = findStateDict(file, root);
            // A storage stays in memory only while tensors still to be built use it, so the peak
            // is about one copy of the weights rather than two.
            Map<String, Integer> users = new HashMap<>();
            for (Object v : stateDict.items.values()) {
                if (v instanceof Unpickler.TensorRef t) users.merge(t.storage().key(), 1, Integer::sum);
            }
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            // Expanded views (stride 0) turn a few stored bytes into many: the tensors built may take at most
            // the bytes the file stores plus EXPANSION_ALLOWANCE, so a tiny file cannot ask for gigabytes.
            long budget = Math.addExact(Files.size(file), EXPANSION_ALLOWANCE), built = 0;
            Map<String, byte[]> storages = new HashMap<>();
            Map<String, Unpickler.StorageRef> declared = new HashMap<>();
            for (Map.Entry<Object, Object> e : stateDict.items.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw new CheckpointFormatException(file, "the state dict has the key " + Unpickler.kind(e.getKey())
                            + "; state dict keys are strings");
                }
                if (!(e.getValue() instanceof Unpickler.TensorRef t)) {
                    throw new CheckpointFormatException(file, "state dict entry '" + name + "' is " + Unpickler.kind(e.getValue())
                            + ", not a tensor");
                }
                String key = t.storage().key();
                Unpickler.StorageRef first = declared.putIfAbsent(key, t.storage());
                if (first != null && !first.equals(t.storage())) {
                    throw new CheckpointFormatException(file, "storage data/" + key + " is declared as " + first.numel() + " "
                            + first.dtype() + " elements and, for tensor '" + name + "', as " + t.storage().numel() + " "
                            + t.storage().dtype() + " elements: the checkpoint is corrupt");
                }
                byte[] storage = storages.get(key);
                if (storage == null) {
                    storage = readStorage(file, zip, prefix, name, t.storage());
                    storages.put(key, storage);
                }
                boolean lastUser = users.merge(key, -1, Integer::sum) == 0;
                if (lastUser) storages.remove(key);
                built = Math.addExact(built, Math.multiplyExact(numel(file, name, t), t.storage().dtype().bytes()));
                if (built > budget) {
                    throw new CheckpointFormatException(file, "tensor '" + name + "' brings the state dict to " + built + " bytes from a file of "
                            + Files.size(file) + "; expanded (stride-0) tensors may add at most " + EXPANSION_ALLOWANCE
                            + " bytes to what the file stores: the file is corrupt or hostile");
                }
                out.put(name, gather(file, name, t, storage, bigEndian, lastUser));
            }
            return out;
        }
    }

    private static CheckpointFormatException notAZip(Path file, ZipException e) {
        byte[] head = new byte[4];
        int n = 0;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 4);
        } catch (IOException ignored) {
            // The message below is still right without the first bytes.
        }
        if (n >= 2 && (head[0] & 0xFF) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return new CheckpointFormatException(file, "a PyTorch checkpoint in the legacy format (before PyTorch 1.6, or saved with "
                    + "_use_new_zipfile_serialization=False), which is not supported: load it in PyTorch and save it again "
                    + "with torch.save(state_dict, path)", e);
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < n; i++) hex.append(String.format(" %02x", head[i] & 0xFF));
        return new CheckpointFormatException(file, "not a zip archive, or a truncated one (" + e.getMessage()
                + "; it starts with" + (n == 0 ? " nothing, it is empty" : hex) + "): PyTorch .pth files are zip archives "
                + "written by torch.save", e);
    }

    /** PyTorch puts every entry under one folder, named after the file when it was first saved. */
    private static String archivePrefix(Path file, ZipFile zip) throws CheckpointFormatException {
        Enumeration<? extends ZipEntry> entries = zip.entries();
        if (!entries.hasMoreElements()) throw new CheckpointFormatException(file, "the zip archive is empty; it is not a torch.save checkpoint");
        String first = entries.nextElement().getName();
        int slash = first.indexOf('/');
        if (slash <= 0) {
            throw new CheckpointFormatException(file, "the zip archive's first entry '" + first
                    + "' is not inside a folder as torch.save writes it; it is not a torch.save checkpoint");
        }
        return first.substring(0, slash + 1);
    }

    private static boolean byteOrderIsBig(Path file, ZipFile zip, String prefix) throws IOException {
        ZipEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) return false; // Written only since PyTorch 2.0; older files are little-endian.
        String order = new String(readEntry(file, zip, e, 16), StandardCharsets.US_ASCII).trim();
        return switch (order) {
            case "little" -> false;
            case "big" -> true;
            default -> throw new CheckpointFormatException(file, prefix + "byteorder says '" + order + "', expected 'little' or 'big'");
        };
    }

    private static Unpickler.Dict findStateDict(Path file, Object root) throws CheckpointFormatException {
        if (!(root instanceof Unpickler.Dict d)) {
            throw new CheckpointFormatException(file, "holds " + Unpickler.kind(root) + ", not a state dict; save model.state_dict() with torch.save");
        }
        for (String wrapper : List.of("state_dict", "model")) {
            if (d.items.get(wrapper) instanceof Unpickler.Dict inner) return inner;
        }
        for (Map.Entry<Object, Object> e : d.items.entrySet()) {
            if (!(e.getValue() instanceof Unpickler.TensorRef)) {
                List<String> keys = new ArrayList<>();
                for (Object k : d.items.keySet()) {
                    keys.add(String.valueOf(k));
                    if (keys.size() == 10) {
                        keys.add("…");
                        break;
                    }
                }
                throw new CheckpointFormatException(file, "the top-level dict is not a state dict (entry '" + e.getKey() + "' is "
                        + Unpickler.kind(e.getValue()) + ", not a tensor) and has no 'state_dict' or 'model' entry holding one; keys: " + keys);
            }
        }
        return d;
    }

    private static byte[] readStorage(Path file, ZipFile zip, String prefix, String tensor, Unpickler.StorageRef s) throws IOException {
        String name = prefix + "data/" + s.key();
        ZipEntry e = zip.getEntry(name);
        if (e == null) {
            throw new CheckpointFormatException(file, "the storage file " + name + " of tensor '" + tensor
                    + "' is missing from the archive: the checkpoint is incomplete or corrupt");
        }
        long declared;
        try {
            declared = Math.multiplyExact(s.numel(), s.dtype().bytes());
        } catch (ArithmeticException x) {
            throw new CheckpointFormatException(file, "the storage of tensor '" + tensor + "' declares " + s.numel() + " elements, too many");
        }
        if (e.getSize() >= 0 && e.getSize() < declared) {
            throw new CheckpointFormatException(file, "the storage file " + name + " holds " + e.getSize() + " bytes, but the pickle declares "
                    + s.numel() + " " + s.dtype() + " elements (" + declared + " bytes) for tensor '" + tensor + "': the checkpoint is corrupt");
        }
        return readEntry(file, zip, e, declared);
    }

    /** Reads at most {@code limit} bytes of an entry, refusing entries a byte array cannot hold. */
    private static byte[] readEntry(Path file, ZipFile zip, ZipEntry e, long limit) throws IOException {
        long want = e.getSize() >= 0 ? Math.min(e.getSize(), limit) : limit;
        if (want > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(file, "entry " + e.getName() + " is " + want + " bytes, over the 2 GiB a host buffer can hold");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] data = in.readNBytes((int) want);
            if (e.getSize() >= 0 && data.length < want) {
                throw new CheckpointFormatException(file, "entry " + e.getName() + " ends after " + data.length + " of its " + want
                        + " bytes: the archive is truncated or corrupt");
            }
            return data;
        } catch (CheckpointFormatException x) {
            throw x;
        } catch (IOException x) {
            // ZipException, EOFException (a local header past the end of the file), …: all a damaged archive.
            throw new CheckpointFormatException(file, "entry " + e.getName() + " cannot be read (" + x + "): the archive is corrupt", x);
        }
    }

    /** How many bytes the tensors built may exceed the file's size by (expanded views). */
    public static final long EXPANSION_ALLOWANCE = 256L << 20;

    /** The element count of a tensor, refused if it cannot be addressed. */
    private static long numel(Path file, String name, Unpickler.TensorRef t) throws CheckpointFormatException {
        long n = 1;
        try {
            for (long d : t.size()) n = Math.multiplyExact(n, d);
            return n;
        } catch (ArithmeticException x) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' has size " + Arrays.toString(t.size()) + ", too large to address");
        }
    }

    /** Copies a strided view of a storage into a dense row-major tensor. */
    private static HostTensor gather(Path file, String name, Unpickler.TensorRef t, byte[] storage, boolean bigEndian,
                                     boolean mayTakeStorage) throws CheckpointFormatException {
        DType dtype = t.storage().dtype();
        int es = dtype.bytes();
        long[] size = t.size(), stride = t.stride();
        long numel = 1, last = t.offset();
        try {
            for (int i = 0; i < size.length; i++) {
                numel = Math.multiplyExact(numel, size[i]);
                if (size[i] > 0) last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
            }
            Math.multiplyExact(numel, es);
        } catch (ArithmeticException x) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' has size " + Arrays.toString(size) + " and stride "
                    + Arrays.toString(stride) + ", too large to address");
        }
        if (numel > 0 && last >= t.storage().numel()) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' (size " + Arrays.toString(size) + ", stride "
                    + Arrays.toString(stride) + ", offset " + t.offset() + ") reaches element " + last + " of storage data/"
                    + t.storage().key() + ", which has only " + t.storage().numel() + " elements: the checkpoint is corrupt");
        }
        if (numel * es > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(file, "tensor '" + name + "' has " + numel * es + " bytes, over the 2 GiB a host tensor can hold");
        }
        byte[] out;
        if (mayTakeStorage && t.offset() == 0 && numel * es == storage.length && isContiguous(size, stride)) {
            out = storage; // the common case: a tensor that is its whole storage, used by nothing else
        } else {
            out = new byte[(int) (numel * es)];
            if (numel > 0) copyStrided(storage, t.offset(), size, stride, es, out);
        }
        if (bigEndian && es > 1) swapBytes(out, es);
        return new HostTensor(dtype, size, out);
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) return false;
            expected *= size[d];
        }
        return true;
    }

    private static void copyStrided(byte[] src, long offset, long[] size, long[] stride, int es, byte[] out) {
        int rank = size.length;
        if (rank == 0) {
            System.arraycopy(src, (int) (offset * es), out, 0, es);
            return;
        }
        int inner = (int) size[rank - 1];
        long innerStride = stride[rank - 1];
        long[] index = new long[rank - 1];
        int dst = 0;
        while (true) {
            long base = offset;
            for (int d = 0; d < rank - 1; d++) base += index[d] * stride[d];
            int from = (int) (base * es);
            if (innerStride == 1) {
                System.arraycopy(src, from, out, dst, inner * es);
            } else if (innerStride == 0) {
                // A broadcast (expanded) dimension: replicate one element by doubling copies.
                System.arraycopy(src, from, out, dst, es);
                for (int filled = 1; filled < inner; filled *= 2) {
                    System.arraycopy(out, dst, out, dst + filled * es, Math.min(filled, inner - filled) * es);
                }
            } else {
                for (int j = 0; j < inner; j++) System.arraycopy(src, (int) ((base + j * innerStride) * es), out, dst + j * es, es);
            }
            dst += inner * es;
            int d = rank - 2;
            while (d >= 0 && ++index[d] == size[d]) index[d--] = 0;
            if (d < 0) return;
        }
    }

    private static void swapBytes(byte[] b, int es) {
        for (int i = 0; i < b.length; i += es) {
            for (int lo = i, hi = i + es - 1; lo < hi; lo++, hi--) {
                byte tmp = b[lo];
                b[lo] = b[hi];
                b[hi] = tmp;
            }
        }
    }
}
