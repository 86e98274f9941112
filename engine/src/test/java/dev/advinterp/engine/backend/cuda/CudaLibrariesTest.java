package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Library discovery on fake folder trees: empty files named like the libraries. */
class CudaLibrariesTest {

    private static Path touch(Path folder, String name) throws IOException {
        Files.createDirectories(folder);
        return Files.createFile(folder.resolve(name));
    }

    /** The GPU machine's layout: driver in /usr/local/nvidia/lib64, cuBLAS and cuDNN in a venv's wheels. */
    @Test
    void findsDriverAndPythonWheelsAsOnTheGpuMachine(@TempDir Path root) throws IOException {
        Path driver = touch(root.resolve("usr/local/nvidia/lib64"), "libcuda.so.1");
        Path site = root.resolve("opt/torch/.venv/lib/python3.12/site-packages");
        Path lt = touch(site.resolve("nvidia/cublas/lib"), "libcublasLt.so.13");
        Path blas = touch(site.resolve("nvidia/cublas/lib"), "libcublas.so.13");
        Path cudnn = touch(site.resolve("nvidia/cudnn/lib"), "libcudnn.so.9");
        Path graph = touch(site.resolve("nvidia/cudnn/lib"), "libcudnn_graph.so.9");
        Path nvrtc = touch(site.resolve("nvidia/cuda_nvrtc/lib"), "libnvrtc.so.13");

        List<Path> folders = CudaLibraries.searchFolders(Map.of(), root);
        assertTrue(folders.contains(driver.getParent()), folders.toString());
        assertTrue(folders.contains(cudnn.getParent()), folders.toString());
        List<CudaLibraries.Found> found = CudaLibraries.discover(folders);

        assertEquals(driver, CudaLibraries.entry(found, "libcuda.so.1").path());
        assertEquals(lt, CudaLibraries.entry(found, "libcublasLt.so.13").path());
        assertEquals(blas, CudaLibraries.entry(found, "libcublas.so.13").path());
        assertEquals(cudnn, CudaLibraries.entry(found, "libcudnn.so.9").path());
        assertEquals(graph, CudaLibraries.entry(found, "libcudnn_graph.so.9").path());
        assertEquals(nvrtc, CudaLibraries.entry(found, "libnvrtc.so.13").path());
        assertFalse(CudaLibraries.entry(found, "libcudnn_ops.so.9").present());
        // cuBLAS 13 was found, so 12 is not looked for
        assertTrue(found.stream().noneMatch(f -> f.library().endsWith(".so.12") && f.library().startsWith("libcublas")));
        // dependencies come before the libraries that load them
        List<String> order = found.stream().map(CudaLibraries.Found::library).toList();
        assertTrue(order.indexOf("libcublasLt.so.13") < order.indexOf("libcublas.so.13"));
        assertTrue(order.indexOf("libcudnn_graph.so.9") < order.indexOf("libcudnn_ops.so.9"));
        assertTrue(order.indexOf("libcudnn_ops.so.9") < order.indexOf("libcudnn_cnn.so.9"));
        assertEquals("libcudnn.so.9", order.getLast());
    }

    @Test
    void fallsBackToCublas12WhenThirteenIsAbsent(@TempDir Path root) throws IOException {
        Path lib = root.resolve("usr/local/cuda/lib64");
        touch(lib, "libcublasLt.so.12");
        Path blas = touch(lib, "libcublas.so.12");
        List<CudaLibraries.Found> found = CudaLibraries.discover(CudaLibraries.searchFolders(Map.of(), root));
        assertEquals(blas, CudaLibraries.entry(found, "libcublas.so.12").path());
        assertTrue(found.stream().noneMatch(f -> f.library().equals("libcublas.so.13")));
    }

    @Test
    void environmentFoldersComeFirstAndInOrder(@TempDir Path root) throws IOException {
        Path a = root.resolve("custom/a"), b = root.resolve("custom/b"), ld = root.resolve("ld");
        touch(b, "libcuda.so.1");
        touch(ld, "libcuda.so.1");
        Path system = touch(root.resolve("usr/lib/x86_64-linux-gnu"), "libcuda.so.1");
        Files.createDirectories(a);
        List<Path> folders = CudaLibraries.searchFolders(
                Map.of("ADVINTERP_CUDA_PATH", a + ":" + b, "LD_LIBRARY_PATH", ld.toString()), root);
        assertEquals(List.of(a, b, ld), folders.subList(0, 3));
        assertEquals(system.getParent(), folders.get(3));
        assertEquals(b.resolve("libcuda.so.1"), CudaLibraries.entry(CudaLibraries.discover(folders), "libcuda.so.1").path());
    }

    @Test
    void virtualEnvAndUserSitePackagesAreSearched(@TempDir Path root) throws IOException {
        Path venv = root.resolve("work/venv"), home = root.resolve("home/me");
        Path v = touch(venv.resolve("lib/python3.11/site-packages/nvidia/cudnn/lib"), "libcudnn.so.9");
        Path u = touch(home.resolve(".local/lib/python3.10/site-packages/nvidia/cublas/lib"), "libcublas.so.13");
        List<Path> folders = CudaLibraries.searchFolders(Map.of("VIRTUAL_ENV", venv.toString(), "HOME", home.toString()), root);
        List<CudaLibraries.Found> found = CudaLibraries.discover(folders);
        assertEquals(v, CudaLibraries.entry(found, "libcudnn.so.9").path());
        assertEquals(u, CudaLibraries.entry(found, "libcublas.so.13").path());
    }

    @Test
    void nonexistentFoldersAreLeftOutAndMissingLibrariesListEveryFolderSearched(@TempDir Path root) throws IOException {
        Path only = Files.createDirectories(root.resolve("usr/local/cuda/lib64"));
        List<Path> folders = CudaLibraries.searchFolders(Map.of("LD_LIBRARY_PATH", root.resolve("absent").toString()), root);
        assertEquals(List.of(only), folders);
        List<CudaLibraries.Found> found = CudaLibraries.discover(folders);
        CudaLibraries.Found driver = CudaLibraries.entry(found, "libcuda.so.1");
        assertNull(driver.path());
        assertEquals(folders, driver.searched());
        String report = CudaLibraries.report(found);
        assertTrue(report.contains("libcuda.so.1") && report.contains("not found") && report.contains(only.toString()), report);
        // both cuBLAS majors are reported when neither is present
        assertTrue(report.contains("libcublas.so.13") && report.contains("libcublas.so.12"), report);
    }

    @Test
    void reportNamesTheFileFound(@TempDir Path root) throws IOException {
        Path driver = touch(root.resolve("usr/local/nvidia/lib"), "libcuda.so.1");
        String report = CudaLibraries.report(CudaLibraries.discover(CudaLibraries.searchFolders(Map.of(), root)));
        assertTrue(report.contains(driver.toString()), report);
    }
}
