package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The docs' kernel list is the declarations': the table of kernels/README.md between its two
 * markers is exactly {@link #table()}, and every kernel name the docs mention is declared. After
 * declaring a kernel, paste the table this test prints (and writes to
 * engine/target/kernel-table.md) over the old one.
 */
class KernelDocsTest {
    static final String BEGIN = "<!-- kernel table: made from the Kernel declarations; KernelDocsTest checks it -->";
    static final String END = "<!-- end of kernel table -->";
    private static final Pattern KERNEL_NAME = Pattern.compile("\\b([a-z0-9]+(?:_[a-z0-9]+)*_f(?:32|64))\\b");

    private static Path repositoryFile(String path) {
        Path p = Stream.of(Path.of("..").resolve(path), Path.of(path)).filter(Files::isRegularFile).findFirst().orElse(null);
        assumeTrue(p != null, path + " is not reachable from " + Path.of("").toAbsolutePath());
        return p;
    }

    private static String parameter(Kernel.Param p) {
        return switch (p.kind()) {
            case POINTER -> p.name() + "*";
            case INT -> "int " + p.name();
            case LONG -> "i64 " + p.name();
            case FLOAT -> "float " + p.name();
            case DOUBLE -> "double " + p.name();
        };
    }

    /** The table: one row per declared kernel, in declaration order. */
    static String table() {
        StringBuilder b = new StringBuilder("| kernel | file | parameters | launch (256 threads a block) | what it computes | bytes per element |\n"
                + "|---|---|---|---|---|---|\n");
        for (Kernel k : KernelTable.ALL) {
            String launch = k.grid().describe() + (k.barriers() ? "; meets at `__syncthreads`" : "");
            b.append("| `").append(k.name()).append("` | ").append(k.source()).append(" | ")
                    .append(k.params().stream().map(KernelDocsTest::parameter).collect(Collectors.joining(", ")))
                    .append(" | ").append(launch).append(" | ").append(k.computes().replace("|", "\\|")).append(" | ").append(k.bytes())
                    .append(" |\n");
        }
        return b.toString();
    }

    @Test
    void theKernelTableOfTheKernelsReadmeIsTheDeclarations() throws IOException {
        String readme = Files.readString(repositoryFile("kernels/README.md"));
        int begin = readme.indexOf(BEGIN), end = readme.indexOf(END);
        assertTrue(begin >= 0 && end > begin, "kernels/README.md needs the markers " + BEGIN + " and " + END);
        String documented = readme.substring(begin + BEGIN.length(), end).strip() + "\n";
        String expected = table();
        if (!documented.equals(expected)) {
            Path out = Path.of("target", "kernel-table.md");
            Files.createDirectories(out.getParent());
            Files.writeString(out, expected);
            fail("the kernel table of kernels/README.md differs from the declarations; replace it with (also in " + out.toAbsolutePath()
                    + "):\n" + expected);
        }
    }

    @Test
    void everyKernelTheDocsNameIsDeclared() throws IOException {
        Set<String> declared = KernelTable.ALL.stream().map(Kernel::name).collect(Collectors.toSet());
        for (String doc : List.of("kernels/README.md", "engine/CUDA.md")) {
            Set<String> unknown = new TreeSet<>();
            Matcher m = KERNEL_NAME.matcher(Files.readString(repositoryFile(doc)));
            while (m.find()) if (!declared.contains(m.group(1))) unknown.add(m.group(1));
            assertEquals(Set.of(), unknown, doc + " names kernels that are not declared");
        }
    }
}
