"""Drive nnplayground over REST: create a session, train, change the learning rate, train again.

Start a server first (`make run`), then:

    .venv/bin/python examples/scripted_session.py [--url http://127.0.0.1:8000]

Every call follows docs/protocol.md; the server's OpenAPI docs are at <url>/docs.
"""

import argparse
import sys

import httpx

# XOR needs a hidden layer; two small tanh layers with Adam learn it in a few dozen epochs.
CONFIG = {
    "problem": "classification",
    "data": {"dataset": "xor", "noise": 0, "train_ratio": 0.5, "num_points": 500, "seed": 0},
    "features": ["x1", "x2"],
    "network": {"hidden_layers": [6, 4], "activation": "tanh"},
    "training": {"optimizer": "adam", "learning_rate": 0.03, "batch_size": 10},
}


def show_state(label: str, state: dict) -> None:
    """One line per milestone: epoch, losses and accuracies."""
    print(
        f"{label:<28} epoch {state['epoch']:>4}  lr {state['learning_rate']:<6g}"
        f"  train loss {state['train_loss']:.4f}  test loss {state['test_loss']:.4f}"
        f"  test accuracy {state['test_accuracy']:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="server address")
    parser.add_argument("--epochs", type=int, default=50, help="epochs per training call")
    parser.add_argument("--min-accuracy", type=float, default=0.0, help="exit 1 if the final test accuracy is lower")
    args = parser.parse_args(argv)

    # Training answers when it is done, so allow it time.
    with httpx.Client(base_url=args.url, timeout=120) as client:
        health = client.get("/api/health").raise_for_status().json()
        print(f"server {args.url}: nnplayground {health['version']} on {health['device']}")

        created = client.post("/api/sessions", json=CONFIG).raise_for_status().json()
        sid = created["id"]
        # Every call on a session carries its token.
        client.headers["Authorization"] = f"Bearer {created['token']}"
        print(f"created session {sid}")
        try:
            state = client.post(f"/api/sessions/{sid}/train", json={"epochs": args.epochs})
            show_state(f"trained {args.epochs} epochs", state.raise_for_status().json()["state"])

            # A learning-rate change applies live: same weights, same epoch counter.
            patch = {"training": {"learning_rate": 0.01}}
            state = client.patch(f"/api/sessions/{sid}", json=patch).raise_for_status().json()["state"]
            print(f"learning rate is now {state['learning_rate']:g}")

            state = client.post(f"/api/sessions/{sid}/train", json={"epochs": args.epochs})
            show_state(f"trained {args.epochs} more", state.raise_for_status().json()["state"])

            history = client.get(f"/api/sessions/{sid}/history").raise_for_status().json()
            print("\nepoch  train loss  test loss  test accuracy")
            every = max(1, len(history["epoch"]) // 10)
            for i in [*range(0, len(history["epoch"]) - 1, every), len(history["epoch"]) - 1]:
                print(
                    f"{history['epoch'][i]:>5}  {history['train_loss'][i]:>10.4f}"
                    f"  {history['test_loss'][i]:>9.4f}  {history['test_accuracy'][i]:>13.3f}"
                )

            metrics = client.get(f"/api/sessions/{sid}/metrics").raise_for_status().json()
            for part in ("train", "test"):
                m = metrics[part]
                print(
                    f"\n{part}: loss {m['loss']:.4f}, accuracy {m['accuracy']:.3f}, "
                    f"confusion[true][predicted] {m['confusion']}"
                )
        finally:
            deleted = client.delete(f"/api/sessions/{sid}")
            print(f"\ndelete session {sid}: HTTP {deleted.status_code}")

    accuracy = metrics["test"]["accuracy"]
    print(f"final test accuracy: {accuracy:.2f}")
    return 0 if deleted.status_code == 204 and accuracy >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
