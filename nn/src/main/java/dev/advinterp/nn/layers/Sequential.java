package dev.advinterp.nn.layers;

import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

import java.util.ArrayList;
import java.util.List;

/** Modules applied in order, named "0", "1", … as in PyTorch's Sequential. */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) add(m);
    }

    public Sequential add(Module m) {
        layers.add(child(Integer.toString(layers.size()), m));
        return this;
    }

    public Module get(int i) {
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }

    @Override
    protected Tensor forward(Tensor x) {
        for (Module m : layers) x = m.call(x);
        return x;
    }
}
