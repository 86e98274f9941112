package dev.advinterp.experiments.report;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's finding sentences compare the drops as the tables print them. */
class StudyReportFindingTest {

    @Test
    void aDifferenceThatRoundsAwayIsNotAFinding() {
        // 0.0102 and 0.0098 both print as 0.010: the -Adv drop is not smaller to the reader
        assertFalse(StudyReport.smallerDropAsPrinted(0.0102, 0.0098, 3));
        assertTrue(StudyReport.smallerDropAsPrinted(0.0112, 0.0098, 3), "0.011 against 0.010");
        assertTrue(StudyReport.smallerDropAsPrinted(0.041, -0.002, 3), "a rise is smaller than a drop");
    }

    @Test
    void withoutADropOnTheNormalModelThereIsNoFinding() {
        assertFalse(StudyReport.smallerDropAsPrinted(0.0004, -0.01, 3), "0.0004 prints as 0.000");
        assertFalse(StudyReport.smallerDropAsPrinted(-2, -3, 0));
        assertTrue(StudyReport.smallerDropAsPrinted(3, 2, 0), "counts of aligned units");
        assertFalse(StudyReport.smallerDropAsPrinted(1, 1, 0));
    }
}
