package dev.advinterp.nn.train;

import java.util.Iterator;

/**
 * Batches for training or evaluation. {@link #epoch(int)} must depend only on the epoch number and
 * the source's own seed (not on how many epochs were read before), so that a run resumed from a
 * checkpoint sees the same batches as an uninterrupted one.
 */
public interface BatchSource {

    /** Number of batches in one epoch. */
    int batches();

    /** Number of images in one epoch. */
    long images();

    /** The batches of epoch {@code epoch} (0-based), in order. */
    Iterator<Batch> epoch(int epoch);
}
