package dev.advinterp.engine.backend;

import dev.advinterp.engine.backend.cuda.CudaBackend;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the backends say of the machine, for the doctor: each fills its own part. */
class DiagnosticsTest {

    private static List<String> keys(Diagnostics d) {
        return d.items().stream().filter(i -> i instanceof Diagnostics.Line).map(i -> ((Diagnostics.Line) i).key()).toList();
    }

    @Test
    void theCpuBackendNamesItsCoresSimdHeapHostCacheAndBlas() {
        Diagnostics d = Backends.cpu().diagnostics();
        List<String> keys = keys(d);
        assertEquals(List.of("cores", "SIMD", "heap", "host cache", "BLAS"), keys.subList(0, 5), keys.toString());
        String cache = ((Diagnostics.Line) d.items().get(3)).value();
        assertTrue(cache.startsWith("limit ") && cache.contains(" hits, "), cache);
        String blas = ((Diagnostics.Line) d.items().get(4)).value();
        assertTrue(blas.startsWith("OpenBLAS from ") || blas.startsWith("none loaded"), blas);
    }

    @Test
    void theCudaPartNamesTheDriverEveryLibraryAndWhetherTheBackendOpens() {
        Diagnostics d = Backends.cudaDiagnostics();
        assertEquals("CUDA", keys(d).getFirst());
        assertEquals("CUDA backend", keys(d).getLast());
        String libraries = d.items().stream().filter(i -> i instanceof Diagnostics.Text).map(i -> ((Diagnostics.Text) i).text())
                .findFirst().orElseThrow();
        for (String lib : new String[]{"libcuda.so.1", "libcublas.so.", "libcudnn.so.9"}) assertTrue(libraries.contains(lib), libraries);
        Optional<String> reason = CudaBackend.unavailableReason();
        String status = ((Diagnostics.Line) d.items().getLast()).value();
        assertTrue(reason.map(r -> status.equals("cannot be used: " + r)).orElse(status.startsWith("opens on GPU 0: ")), status);
    }
}
