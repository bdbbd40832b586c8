"""docker_archive_manifest: the image ID and tags of a `docker save` archive, in both layouts Docker writes."""
import io
import json
import tarfile

import pytest
from ansible.errors import AnsibleFilterError
from collection import plugin

archive = plugin("filter", "docker_archive")
DIGEST = "f" * 64


def save(path, manifest) -> str:
    with tarfile.open(path, "w") as tar:
        data = json.dumps(manifest).encode()
        entry = tarfile.TarInfo("manifest.json")
        entry.size = len(data)
        tar.addfile(entry, io.BytesIO(data))
    return str(path)


@pytest.mark.parametrize("config", [f"{DIGEST}.json", f"blobs/sha256/{DIGEST}"], ids=["docker", "oci"])
def test_the_image_id_is_the_digest_of_the_config_blob(tmp_path, config):
    path = save(tmp_path / "image.tar", [{"Config": config, "RepoTags": ["gds:1", "gds:latest"], "Layers": []}])
    assert archive.docker_archive_manifest(path) == {"id": f"sha256:{DIGEST}", "tags": ["gds:1", "gds:latest"]}


def test_an_untagged_image_has_no_tags(tmp_path):
    path = save(tmp_path / "image.tar", [{"Config": f"{DIGEST}.json", "RepoTags": None}])
    assert archive.docker_archive_manifest(path)["tags"] == []


def test_an_archive_of_several_images_or_none_is_refused(tmp_path):
    two = save(tmp_path / "two.tar", [{"Config": f"{DIGEST}.json"}, {"Config": f"{'e' * 64}.json"}])
    with pytest.raises(AnsibleFilterError, match="holds 2 images"):
        archive.docker_archive_manifest(two)
    (tmp_path / "notes.txt").write_text("not a tar")
    with tarfile.open(tmp_path / "empty.tar", "w"):
        pass
    for path in (tmp_path / "notes.txt", tmp_path / "empty.tar", tmp_path / "missing.tar"):
        with pytest.raises(AnsibleFilterError, match="is not a `docker save` archive"):
            archive.docker_archive_manifest(str(path))
