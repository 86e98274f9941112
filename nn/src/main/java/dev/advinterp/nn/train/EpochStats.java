package dev.advinterp.nn.train;

/** One epoch's metrics; the validation ones are NaN when there is no validation set. */
public record EpochStats(int epoch, float lr, double trainLoss, double trainAccuracy, double valLoss, double valAccuracy,
                         double seconds) {

    static final String CSV_HEADER = "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds";

    String csv() {
        return epoch + "," + lr + "," + trainLoss + "," + trainAccuracy + "," + valLoss + "," + valAccuracy + "," + seconds;
    }

    static EpochStats parseCsv(String line) {
        String[] p = line.split(",");
        return new EpochStats(Integer.parseInt(p[0]), Float.parseFloat(p[1]), Double.parseDouble(p[2]), Double.parseDouble(p[3]),
                Double.parseDouble(p[4]), Double.parseDouble(p[5]), Double.parseDouble(p[6]));
    }
}
