package dev.advinterp.nn.train;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

import java.util.Iterator;

/** Mean loss, top-1 and top-5 accuracy of a model on a batch source, in evaluation mode. */
public record Evaluation(double loss, double top1, double top5, long images) {

    public static Evaluation run(ImageModel model, BatchSource source) {
        double lossSum = 0;
        long n = 0, c1 = 0, c5 = 0;
        try (var mode = model.inMode(false)) {
            for (Iterator<Batch> it = source.epoch(0); it.hasNext(); ) {
                Batch b = it.next();
                try (Scope s = Scope.open()) {
                    Tensor logits = model.call(b.tensor());
                    lossSum += Ops.softmaxCrossEntropy(logits, b.labels()).item() * b.n();
                    int k = Math.min(5, logits.dim(1));
                    Ops.TopK top = Ops.topk(logits, k);
                    for (int i = 0; i < b.n(); i++) {
                        if (top.index(i, 0) == b.labels()[i]) c1++;
                        for (int j = 0; j < k; j++) {
                            if (top.index(i, j) == b.labels()[i]) {
                                c5++;
                                break;
                            }
                        }
                    }
                    n += b.n();
                }
            }
        }
        if (n == 0) throw new IllegalArgumentException("evaluation on an empty batch source");
        return new Evaluation(lossSum / n, (double) c1 / n, (double) c5 / n, n);
    }
}
