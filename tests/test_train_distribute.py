"""The tf.distribute paths, each in fresh processes (device setup must precede TensorFlow's start)."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    if sys.argv[3] == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    from colorize.train.config import TrainConfig
    from colorize.train.distribute import make_strategy
    from colorize.train import train
    config = TrainConfig(data=sys.argv[1], output_dir=sys.argv[2], model="unet",
                         model_options={"base_filters": 4}, image_size=32, batch_size=4, epochs=1,
                         steps_per_epoch=2, validation_steps=1, num_samples=2, strategy=sys.argv[3])
    replicas = make_strategy(sys.argv[3]).num_replicas_in_sync if sys.argv[3] == "mirrored" else None
    result = train(config)
    print(json.dumps({"replicas": replicas, "epochs": result.epochs_done}))
    """
)


def _run(args, env=None):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.mark.slow  # half a minute: two logical CPUs in a fresh TensorFlow process
def test_mirrored_on_two_logical_cpus(image_folder, tmp_path):
    process = _run([str(image_folder), str(tmp_path / "run"), "mirrored"])
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err[-2000:]
    report = json.loads(out.strip().splitlines()[-1])
    assert report == {"replicas": 2, "epochs": 1}
    assert (tmp_path / "run" / "best.keras").exists()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # ~20 s: two TensorFlow processes on a loopback gRPC cluster
def test_multiworker_two_local_workers(image_folder, tmp_path):
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        processes.append(_run([str(image_folder), str(tmp_path / "run"), "multiworker"], env=env))
    results = [process.communicate(timeout=400) for process in processes]
    for process, (out, err) in zip(processes, results):
        assert process.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1])["epochs"] == 1
    assert (tmp_path / "run" / "best.keras").exists()  # the chief's run directory
    assert (tmp_path / "run" / "workers" / "worker_1").is_dir()
