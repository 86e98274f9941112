package dev.advinterp.engine.backend.cuda;

/**
 * The choice among cuDNN's heuristically ranked convolution algorithms: the first (best ranked)
 * that reports success and needs at most {@code workspaceLimit} bytes; where determinism is
 * preferred (the backward directions: the same inputs must give the same gradients, as on the
 * CPU), the first deterministic one of those if any, else the first of those. Null when none
 * qualifies.
 */
final class ConvAlgorithms {
    private ConvAlgorithms() {
    }

    static Cudnn.AlgoPerf choose(Cudnn.AlgoPerf[] ranked, boolean preferDeterministic, long workspaceLimit) {
        Cudnn.AlgoPerf first = null;
        for (Cudnn.AlgoPerf a : ranked) {
            if (a.status() != 0 || a.memory() < 0 || a.memory() > workspaceLimit) continue;
            if (!preferDeterministic || a.deterministic()) return a;
            if (first == null) first = a;
        }
        return first;
    }
}
