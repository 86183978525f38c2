from nnplayground.engine.history import MAX_POINTS, History


def test_history_thins_and_keeps_stride_aligned_epochs() -> None:
    h = History()
    for epoch in range(1, 3 * MAX_POINTS):
        h.append(epoch, {"train_loss": 1.0 / epoch, "test_loss": 2.0 / epoch, "train_accuracy": 0.5})
    assert len(h.epoch) <= MAX_POINTS
    assert h.stride == 4  # 6,000 epochs: stride doubled at 2,000 and 4,000 points
    assert all(e % h.stride == 0 for e in h.epoch)
    i = h.epoch.index(1000)
    assert h.train_loss[i] == 1.0 / 1000


def test_streamed_history_is_short_and_ends_on_the_newest_epoch() -> None:
    from nnplayground.engine.history import STREAM_POINTS

    h = History()
    for epoch in range(1, 1800):
        h.append(epoch, {"train_loss": float(epoch), "test_loss": 0.0})
    epochs, losses = h.streamed(["epoch", "train_loss"])
    assert len(epochs) <= STREAM_POINTS and epochs[-1] == 1799 and losses[-1] == 1799.0
    assert epochs == sorted(epochs)
