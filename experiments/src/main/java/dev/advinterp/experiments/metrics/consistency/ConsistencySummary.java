package dev.advinterp.experiments.metrics.consistency;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Table 1's row for one model: the mean consis and consis_adv of the layer's units, each over the
 * units defined on that set, with how many units were undefined, and the means over the units
 * defined on both (a paired comparison).
 */
public record ConsistencySummary(String layer, int units, int realDefined, int adversarialDefined, int bothDefined, double meanConsis,
                                 double meanConsisAdv, double pairedConsis, double pairedConsisAdv) {

    public static ConsistencySummary of(String layer, List<UnitConsistency> all) {
        double s = 0, sa = 0, ps = 0, psa = 0;
        int r = 0, a = 0, b = 0;
        for (UnitConsistency u : all) {
            if (u.realDefined()) {
                s += u.consis();
                r++;
            }
            if (u.adversarialDefined()) {
                sa += u.consisAdv();
                a++;
            }
            if (u.realDefined() && u.adversarialDefined()) {
                ps += u.consis();
                psa += u.consisAdv();
                b++;
            }
        }
        return new ConsistencySummary(layer, all.size(), r, a, b, r == 0 ? Double.NaN : s / r, a == 0 ? Double.NaN : sa / a,
                b == 0 ? Double.NaN : ps / b, b == 0 ? Double.NaN : psa / b);
    }

    public int realUndefined() {
        return units - realDefined;
    }

    public int adversarialUndefined() {
        return units - adversarialDefined;
    }

    public static final List<String> CSV_HEADER = List.of("layer", "units", "mean_consis", "mean_consis_adv", "undefined_real",
            "undefined_adversarial", "both_defined", "paired_consis", "paired_consis_adv");

    public List<Object> csv() {
        return List.of(layer, units, f(meanConsis), f(meanConsisAdv), realUndefined(), adversarialUndefined(), bothDefined, f(pairedConsis),
                f(pairedConsisAdv));
    }

    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layer", layer);
        m.put("units", units);
        m.put("mean_consis", meanConsis);
        m.put("mean_consis_adv", meanConsisAdv);
        m.put("undefined_real", realUndefined());
        m.put("undefined_adversarial", adversarialUndefined());
        m.put("both_defined", bothDefined);
        m.put("paired_consis", pairedConsis);
        m.put("paired_consis_adv", pairedConsisAdv);
        return m;
    }

    private static String f(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v);
    }

    public String describe() {
        return String.format(Locale.ROOT, "%s: mean consis %.4f over %d of %d units, mean consis_adv %.4f over %d (undefined: %d real, %d adversarial)",
                layer, meanConsis, realDefined, units, meanConsisAdv, adversarialDefined, realUndefined(), adversarialUndefined());
    }
}
