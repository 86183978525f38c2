"""Classification and regression metrics from labels and predicted probabilities (numpy only).

Definitions follow the course texts and scikit-learn's: per class (one-vs-rest) precision
TP/(TP+FP), recall or sensitivity TP/(TP+FN), specificity TN/(TN+FP), F1 the harmonic mean of
precision and recall; accuracy and error rate over all points; ROC (TPR against FPR) and
precision-recall curves with their areas, one-vs-rest for 3+ classes.
"""

from typing import Any

import numpy as np

CURVE_POINTS = 101  # curves are thinned to about this many points for the wire


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts, [true][predicted]."""
    codes = labels.astype(np.int64) * classes + predicted.astype(np.int64)
    return np.bincount(codes, minlength=classes * classes).reshape(classes, classes)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def per_class(matrix: np.ndarray) -> list[dict[str, float]]:
    """Precision, recall (sensitivity), specificity and F1 of each class against the rest."""
    total = matrix.sum()
    out = []
    for c in range(matrix.shape[0]):
        tp = matrix[c, c]
        fn = matrix[c].sum() - tp
        fp = matrix[:, c].sum() - tp
        tn = total - tp - fn - fp
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        out.append({
            "precision": precision,
            "recall": recall,
            "specificity": _ratio(tn, tn + fp),
            "f1": _ratio(2 * precision * recall, precision + recall),
            "support": int(tp + fn),
        })
    return out


def _thin(*curves: np.ndarray) -> list[list[float]]:
    n = len(curves[0])
    if n <= CURVE_POINTS:
        return [c.tolist() for c in curves]
    keep = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int))
    return [c[keep].tolist() for c in curves]


def roc_curve(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """False and true positive rates at every threshold, and the area under the curve (trapezoids)."""
    order = np.argsort(-score, kind="mergesort")
    pos, s = positive[order].astype(float), score[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each run of equal scores
    tps, fps = np.cumsum(pos)[distinct], (distinct + 1) - np.cumsum(pos)[distinct]
    tpr = np.r_[0.0, tps / tps[-1]] if tps[-1] else np.zeros(len(tps) + 1)
    fpr = np.r_[0.0, fps / fps[-1]] if fps[-1] else np.zeros(len(fps) + 1)
    return fpr, tpr, float(np.trapezoid(tpr, fpr))


def pr_curve(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Recall and precision at every threshold, and average precision (scikit-learn's step-wise area)."""
    order = np.argsort(-score, kind="mergesort")
    pos, s = positive[order].astype(float), score[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(pos)[distinct]
    predicted = distinct + 1
    precision = tps / predicted
    recall = tps / tps[-1] if tps[-1] else np.zeros_like(tps)
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return np.r_[0.0, recall], np.r_[1.0, precision], ap


def classification_report(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Everything a student reads off a classifier: confusion (counts, normalised), per-class scores, curves.

    labels (n,) class indices; probabilities (n, classes) (for two classes, column 1 is P(class 1)).
    """
    classes = probabilities.shape[1]
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, classes)
    rows = matrix.sum(axis=1, keepdims=True)
    accuracy = _ratio(np.trace(matrix), matrix.sum())
    curves = []
    for c in range(classes) if classes > 2 else [1]:
        positive = labels == c
        fpr, tpr, auc = roc_curve(positive, probabilities[:, c])
        recall, precision, ap = pr_curve(positive, probabilities[:, c])
        fpr_l, tpr_l = _thin(fpr, tpr)
        recall_l, precision_l = _thin(recall, precision)
        curves.append({"class": c, "roc": {"fpr": fpr_l, "tpr": tpr_l, "auc": auc},
                       "pr": {"recall": recall_l, "precision": precision_l, "average_precision": ap}})
    return {
        "labels": list(range(classes)),
        "confusion": matrix.tolist(),
        "confusion_normalized": np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0).round(4).tolist(),
        "accuracy": accuracy,
        "error_rate": 1.0 - accuracy,
        "per_class": per_class(matrix),
        "curves": curves,
    }


def regression_report(targets: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
    """MSE, MAE, R² and the predicted-against-true points."""
    err = predictions - targets
    total = float(np.sum((targets - targets.mean()) ** 2))
    return {
        "mse": float(np.mean(err**2)),
        "mae": float(np.mean(np.abs(err))),
        "r2": 1.0 - float(np.sum(err**2)) / total if total else 0.0,
        "predicted_vs_true": {"true": targets.round(5).tolist(), "predicted": predictions.round(5).tolist()},
    }
