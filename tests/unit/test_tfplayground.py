"""TensorFlow Playground links map to configs our schema accepts."""

import pytest

from nnplayground.schemas import SessionConfig
from nnplayground.tfplayground import LinkError, to_config

LINK = (
    "https://playground.tensorflow.org/#activation=relu&batchSize=17&dataset=spiral&regDataset=reg-plane"
    "&learningRate=0.1&regularizationRate=0.003&noise=15&networkShape=6,4,2&seed=0.48155&showTestData=false"
    "&discretize=false&percTrainData=70&x=true&y=true&xTimesY=false&xSquared=true&ySquared=true&cosX=false"
    "&sinX=true&cosY=false&sinY=true&collectStats=false&problem=classification&initZero=false&hideText=false"
    "&regularization=L2"
)


def test_a_classification_link() -> None:
    config, warnings = to_config(LINK)
    c = SessionConfig.model_validate(config)
    assert warnings == []
    assert c.data.dataset == "spiral" and c.data.noise == 15 and c.data.train_ratio == 0.7 and c.data.seed == 48155
    assert c.features == ["x1", "x2", "x1^2", "x2^2", "sin_x1", "sin_x2"]
    assert c.network.hidden_layers == [6, 4, 2] and c.network.activation == "relu" and c.network.init == "tf"
    t = c.training
    assert (t.learning_rate, t.batch_size, t.regularization, t.regularization_rate) == (0.1, 17, "l2", 0.003)
    assert t.loss == "tf_squared" and t.optimizer == "sgd"


def test_a_regression_link_and_limits() -> None:
    config, warnings = to_config("#problem=regression&regDataset=reg-gauss&networkShape=8,8,8,8,8,8,8&x=true")
    c = SessionConfig.model_validate(config)
    assert c.problem == "regression" and c.data.dataset == "multi-gauss" and c.data.num_points == 1200
    assert len(c.network.hidden_layers) == 6 and warnings


@pytest.mark.parametrize("link", ["", "https://example.org/page", "#foo=bar"])
def test_not_a_playground_link(link: str) -> None:
    with pytest.raises(LinkError):
        to_config(link)
