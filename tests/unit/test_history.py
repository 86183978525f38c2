import numpy as np

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
    assert list(epochs) == sorted(epochs)


def test_streamed_history_follows_thinning_and_new_epochs() -> None:
    """The float32 mirror a frame slices must match the lists after every append and thinning."""
    h = History()
    for epoch in range(1, 2 * MAX_POINTS + 50):
        h.append(epoch, {"train_loss": epoch / 10, "test_loss": -epoch})
        if epoch % 397 == 0 or epoch > 2 * MAX_POINTS + 40:
            epochs, train, test = h.streamed(["epoch", "train_loss", "test_loss"])
            n, step = len(h.epoch), -(-len(h.epoch) // 500)
            keep = list(range((n - 1) % step, n, step))
            assert epochs.tolist() == [h.epoch[i] for i in keep]
            assert train.tolist() == [float(np.float32(h.train_loss[i])) for i in keep]
            assert test.tolist() == [h.test_loss[i] for i in keep]
    assert h.stride > 1


def test_streamed_history_matches_the_lists_when_frames_follow_every_epoch() -> None:
    """A frame after every epoch: the mirror grows a column at a time, past its room too, and
    shows exactly the lists."""
    h = History()
    names = ["epoch", "train_loss", "test_loss", "validation_loss"]
    for epoch in range(300):
        h.append(epoch, {"train_loss": epoch / 3, "test_loss": 1 - epoch, "val_loss": epoch % 7,
                         "train_accuracy": 0.25})
        streamed = h.streamed(names)
        assert streamed.shape == (4, len(h.epoch))
        for row, name in zip(streamed, names, strict=True):
            assert row.tolist() == [float(np.float32(v)) for v in getattr(h, name)]
        assert h.streamed(["train_accuracy"]).tolist() == [[0.25] * len(h.epoch)]
