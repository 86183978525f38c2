"""Metrics against hand-computed values and scikit-learn's documented examples."""

import numpy as np
import pytest

from nnplayground.metrics import classification_report, per_class, pr_curve, regression_report, roc_curve


def test_roc_auc_and_average_precision_match_scikit_learns_examples() -> None:
    # roc_auc_score and average_precision_score docs: 0.75 and 0.8333…
    positive = np.array([0, 0, 1, 1]) == 1
    score = np.array([0.1, 0.4, 0.35, 0.8])
    fpr, tpr, auc = roc_curve(positive, score)
    assert auc == pytest.approx(0.75)
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0] and tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert pr_curve(positive, score)[2] == pytest.approx(0.8333333333)


def test_perfect_and_inverted_scores() -> None:
    positive = np.array([False, False, True, True])
    assert roc_curve(positive, np.array([0.1, 0.2, 0.8, 0.9]))[2] == 1.0
    assert roc_curve(positive, np.array([0.9, 0.8, 0.2, 0.1]))[2] == 0.0


def test_per_class_scores_by_hand() -> None:
    # true 0: 5 right, 1 called 1;  true 1: 2 called 0, 2 right
    matrix = np.array([[5, 1], [2, 2]])
    c0, c1 = per_class(matrix)
    assert c1["precision"] == pytest.approx(2 / 3)  # TP 2, FP 1
    assert c1["recall"] == pytest.approx(2 / 4)  # sensitivity: TP 2, FN 2
    assert c1["specificity"] == pytest.approx(5 / 6)  # TN 5, FP 1
    assert c1["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert c0["recall"] == pytest.approx(5 / 6) and c0["support"] == 6


def test_classification_report_three_classes() -> None:
    labels = np.array([0, 1, 2, 2])
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.6, 0.2, 0.2]])
    report = classification_report(labels, probs)
    assert report["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]
    assert report["accuracy"] == 0.75 and report["error_rate"] == 0.25
    assert report["confusion_normalized"][2] == [0.5, 0.0, 0.5]
    assert [c["class"] for c in report["curves"]] == [0, 1, 2]  # one-vs-rest
    assert report["curves"][1]["roc"]["auc"] == 1.0


def test_regression_report() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.5, 4.0])
    r = regression_report(t, p)
    assert r["mse"] == pytest.approx(0.125) and r["mae"] == pytest.approx(0.25)
    assert r["r2"] == pytest.approx(1 - 0.5 / 5.0)
