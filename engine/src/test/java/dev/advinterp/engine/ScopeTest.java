package dev.advinterp.engine;

import dev.advinterp.engine.memory.NativeMemory;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.advinterp.engine.TestData.assertThrowsNaming;
import static dev.advinterp.engine.TestData.normal;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Lifetimes: what a scope frees, what keep() and adopt() move, reshaped views sharing one
 * reference-counted storage, and the host-memory statistics coming back to where they started.
 * Tests run one at a time in one JVM, so {@link NativeMemory#currentBytes()} moves only with them.
 */
class ScopeTest {

    @Test
    void closingAScopeFreesItsTensorsAndTheirMemory() {
        long before = NativeMemory.currentBytes();
        Tensor a, b, c;
        try (var s = Scope.open()) {
            a = Tensor.zeros(100, 10);
            b = Ops.relu(Ops.add(a, Tensor.full(Shape.of(100, 10), 2f)));
            c = Ops.sum(b);
            assertEquals(2 * 100 * 10, c.item(), 0);
            assertEquals(5, s.size());
            assertEquals(before + 4 * 4000 + 4, NativeMemory.currentBytes(), "four [100, 10] tensors and one [1]");
        }
        assertTrue(a.isClosed() && b.isClosed() && c.isClosed());
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void keepMovesATensorToTheEnclosingScope() {
        long before = NativeMemory.currentBytes();
        Tensor kept, dropped;
        try (var outer = Scope.open()) {
            try (var inner = Scope.open()) {
                assertSame(inner, Scope.current());
                kept = inner.keep(Tensor.of(new float[]{1, 2, 3}, 3));
                dropped = Tensor.zeros(3);
                assertEquals(1, inner.size());
                assertEquals(1, outer.size());
            }
            assertSame(outer, Scope.current());
            assertTrue(dropped.isClosed());
            assertFalse(kept.isClosed());
            assertArrayEquals(new float[]{1, 2, 3}, kept.toArray());
        }
        assertTrue(kept.isClosed(), "the enclosing scope frees what was kept into it");
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void threeLevelsOfNesting() {
        long before = NativeMemory.currentBytes();
        Tensor fromInnermost;
        try (var a = Scope.open()) {
            try (var b = Scope.open()) {
                try (var c = Scope.open()) {
                    fromInnermost = b.keep(c.keep(Tensor.zeros(8)));
                }
                assertFalse(fromInnermost.isClosed());
            }
            assertFalse(fromInnermost.isClosed(), "kept twice: now in the outermost scope");
            assertEquals(1, a.size());
        }
        assertTrue(fromInnermost.isClosed());
        assertSame(Scope.root(), Scope.current());
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void keepFromTheOutermostScopeMovesToTheRoot() {
        long before = NativeMemory.currentBytes();
        Tensor t;
        try (var s = Scope.open()) {
            t = s.keep(Tensor.zeros(16));
        }
        assertFalse(t.isClosed(), "the root scope never closes by itself");
        t.close();
        assertTrue(t.isClosed());
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void detachedScopesHoldParametersAcrossBlocks() {
        long before = NativeMemory.currentBytes();
        Scope params = Scope.detached("params");
        Tensor w;
        try (var s = Scope.open()) {
            w = params.adopt(Tensor.full(Shape.of(4, 4), 0.5f));
            assertSame(Scope.current(), s, "a detached scope never becomes current");
        }
        assertFalse(w.isClosed());
        try (var s = Scope.open()) {
            assertEquals(8f, Ops.sum(w).item());
        }
        params.close();
        assertTrue(w.isClosed());
        params.close(); // idempotent
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void adoptingIntoAClosedScopeLeavesTheTensorWhereItWas() {
        long before = NativeMemory.currentBytes();
        Scope gone = Scope.detached("params");
        gone.close();
        Tensor t;
        try (var s = Scope.open()) {
            t = Tensor.zeros(2, 3);
            assertThrowsNaming(IllegalStateException.class, () -> gone.adopt(t), "scope 'params' is closed", "[2, 3]");
            assertEquals(1, s.size(), "still owned by its scope");
        }
        assertTrue(t.isClosed(), "freed with the scope it still belongs to, not leaked");
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void reshapedViewsShareOneReferenceCountedStorage() {
        long before = NativeMemory.currentBytes();
        try (var s = Scope.open()) {
            Tensor x = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
            long withX = NativeMemory.currentBytes();
            Tensor v1 = Ops.reshape(x, 3, 2), v2 = Ops.flatten(v1);
            assertSame(x.storage(), v1.storage());
            assertSame(x.storage(), v2.storage());
            assertEquals(withX, NativeMemory.currentBytes(), "a view allocates nothing");
            x.close();
            v1.close();
            assertEquals(withX, NativeMemory.currentBytes(), "one view left: the storage stays");
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, v2.toArray());
            v2.close();
            assertEquals(before, NativeMemory.currentBytes(), "the last view frees it");
        }
        assertEquals(before, NativeMemory.currentBytes(), "closing the scope does not free it a second time");
    }

    @Test
    void aScopeFreesViewsAndOriginalsExactlyOnce() {
        long before = NativeMemory.currentBytes();
        try (var s = Scope.open()) {
            Tensor x = Tensor.zeros(4, 4);
            Ops.reshape(x, 16);
            Ops.reshape(Ops.reshape(x, 2, 8), 8, 2);
            Tensor closedEarly = Tensor.zeros(10);
            closedEarly.close();
            closedEarly.close();
        }
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void backwardFreesIntermediateGradientsAndLeavesNothingBehind() {
        SplittableRandom r = new SplittableRandom(50);
        float[] xs = normal(r, 2 * 3 * 6 * 6, 1), ws = normal(r, 4 * 3 * 3 * 3, 0.3), fc = normal(r, 5 * 4 * 9, 0.3);
        Runnable step = () -> {
            try (var s = Scope.open(); var tape = Tape.start()) {
                Tensor x = tape.watch(Tensor.of(xs, 2, 3, 6, 6));
                Tensor w = Tensor.of(ws, 4, 3, 3, 3).requiresGrad(true), v = Tensor.of(fc, 5, 36).requiresGrad(true);
                Tensor h = Ops.maxPool2d(Ops.relu(Ops.conv2d(x, w, null, 1, 1)), 2, 2, 0);
                Tensor loss = Ops.softmaxCrossEntropy(Ops.linear(Ops.flatten(h), v, null), new int[]{1, 4});
                int live = s.size();
                Gradients g = tape.backward(loss);
                assertEquals(3, g.tensors().size());
                // only the seed and the three leaf gradients remain of everything the backward made
                assertEquals(live + 1 + 3, s.size());
                g.close();
                assertEquals(live + 1, s.size());
            }
        };
        step.run(); // the convolution's workspace grows once and is then reused
        long before = NativeMemory.currentBytes();
        step.run();
        assertEquals(before, NativeMemory.currentBytes());
    }

    @Test
    void peakStatisticsFollowTheCurrentUse() {
        try (var s = Scope.open()) {
            NativeMemory.resetPeak();
            long start = NativeMemory.currentBytes();
            assertEquals(start, NativeMemory.peakBytes());
            long allocations = NativeMemory.allocations();
            Tensor big = Tensor.zeros(1000, 100);
            big.close();
            assertEquals(start, NativeMemory.currentBytes());
            assertEquals(start + 400_000, NativeMemory.peakBytes());
            assertEquals(allocations + 1, NativeMemory.allocations());
        }
    }
}
