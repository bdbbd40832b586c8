"""The filters that decide, on the controller, what a machine's listing means: whose names and ports are
taken (by other clusters, or by any other program), whether a container already runs as asked, and which
image answer is the latest. A wrong answer here would skip a refusal or a placement, which the end-to-end tests
see only in some states."""
from collection import plugin

LABEL_CLUSTER, LABEL_PORTS, LABEL_SPEC = "cluster", "ports", "spec"

containers = plugin("filter", "dask_containers")
images = plugin("filter", "dask_images")


def container(name, state="running", **labels):
    return {"Names": [f"/{name}"], "State": state, "Labels": labels or None}


def test_a_name_held_by_a_container_of_someone_else_or_of_another_cluster_is_foreign():
    listing = [container("dask-scheduler"), container("dask-worker", cluster="other"),
               container("dask-jupyter", cluster="dask"), container("unrelated")]
    held = containers.dask_foreign_holders(
        listing, ["dask-scheduler", "dask-worker", "dask-jupyter"], LABEL_CLUSTER, "dask")
    assert held == ["dask-scheduler", "dask-worker"]


def test_only_running_or_paused_containers_of_other_clusters_on_a_needed_port_clash():
    listing = [container("a-scheduler", cluster="a", ports="8786,8787"),
               container("b-worker", state="exited", cluster="b", ports="8786"),
               container("dask-scheduler", cluster="dask", ports="8786"),
               container("c-worker", cluster="c", ports="9000"),
               container("d-jupyter", state="paused", cluster="d", ports="8888")]
    clashes = containers.dask_port_clashes(listing, ["8786", 8787, 8888], "dask", LABEL_CLUSTER, LABEL_PORTS)
    assert clashes == ["cluster 'a' (container a-scheduler) listens on 8786, 8787",
                       "cluster 'd' (container d-jupyter) listens on 8888"]


def test_a_needed_port_is_taken_when_anything_but_this_clusters_running_containers_holds_it():
    guide_jupyter = dict(container("jupyter"), Ports=[{"PrivatePort": 8888, "PublicPort": 8888, "Type": "tcp"},
                                                      {"PrivatePort": 9999, "Type": "tcp"}])
    ours = [container("dask-scheduler", cluster="dask", ports="8786,8787"),
            container("dask-jupyter", state="restarting", cluster="dask", ports="8890")]
    needed = [8786, "8787", 8888, 8890, 8791]
    taken = containers.dask_ports_taken
    # Listening: sshd, this cluster's scheduler (its own ports), something on 8890 while our Jupyter restarts.
    assert taken(ours + [guide_jupyter], [22, 8786, 8787, 8890], needed, "dask", LABEL_CLUSTER, LABEL_PORTS) \
        == [8888, 8890]
    # The same ports are another cluster's to claim, not this one's; an unpublished container port is no one's.
    assert taken(ours, [8786, 8787], needed, "other", LABEL_CLUSTER, LABEL_PORTS) == [8786, 8787]
    assert taken([guide_jupyter], [], [9999], "dask", LABEL_CLUSTER, LABEL_PORTS) == []
    assert taken([], [], needed, "dask", LABEL_CLUSTER, LABEL_PORTS) == []
    # A paused container keeps its sockets: this cluster's still holds its own ports.
    paused = [dict(ours[0], State="paused")]
    assert taken(paused, [22, 8786, 8787], needed, "dask", LABEL_CLUSTER, LABEL_PORTS) == []


def test_the_latest_image_answer_wins_and_a_changed_or_digest_listing_is_not_trusted():
    listed = {"images": [{"Id": "sha256:listed"}]}
    read = {"images": [{"Id": "sha256:read"}]}
    loaded = {"images": [{"Id": "sha256:loaded"}]}
    assert images.dask_image_id({"__dask_machine": listed}, "gds:1") == "sha256:listed"
    assert images.dask_image_id({"__dask_machine": listed, "__dask_image_pulled": {"changed": True},
                                 "__dask_image_here": read}, "gds:1") == "sha256:read"
    assert images.dask_images_held({"__dask_machine": listed}, "gds@sha256:" + "0" * 64) is None
    assert images.dask_image_id({"__dask_machine": listed, "__dask_image_loaded": loaded}, "gds:1") == "sha256:loaded"
    # A skipped read (no images key) leaves the listing as the answer; nothing read at all is '(none)'.
    assert images.dask_image_id({"__dask_machine": listed, "__dask_image_loaded": {"skipped": True}},
                                "gds:1") == "sha256:listed"
    assert images.dask_image_id({}, "gds:1") == "(none)"


def test_only_this_clusters_containers_with_another_identity_count_as_another_start():
    listing = [container("dask-scheduler", cluster="dask", identity="a1"),
               container("dask-worker", cluster="dask", identity="b2"),
               container("dask-jupyter", cluster="dask"),  # made before identities: this cluster's
               container("other-worker", cluster="other", identity="c3")]
    assert containers.dask_other_identities(listing, LABEL_CLUSTER, "dask", "identity", "a1") == ["b2"]
    assert containers.dask_other_identities(listing[:1] + listing[2:], LABEL_CLUSTER, "dask", "identity", "a1") == []


def test_a_spec_hash_ignores_key_order_and_follows_every_value():
    spec = {"image": "gds:1", "command": ["dask", "scheduler"], "env": {"A": "1", "B": "2"}, "labels": {"x": "y"}}
    reordered = {"labels": {"x": "y"}, "env": {"B": "2", "A": "1"}, "command": ["dask", "scheduler"], "image": "gds:1"}
    assert containers.dask_spec_hash(spec) == containers.dask_spec_hash(reordered)
    changed = [dict(spec, image="gds:2"), dict(spec, command=["scheduler", "dask"]), dict(spec, env={"A": "1"}),
               dict(spec, labels={"x": "z"})]
    hashes = {containers.dask_spec_hash(variant) for variant in [spec, *changed]}
    assert len(hashes) == 1 + len(changed)


def test_a_container_carries_its_specs_labels_and_the_specs_hash():
    spec = {"image": "gds:1", "labels": {LABEL_CLUSTER: "dask", LABEL_PORTS: "8786"}}
    assert containers.dask_spec_labels(spec, LABEL_SPEC) == {
        LABEL_CLUSTER: "dask", LABEL_PORTS: "8786", LABEL_SPEC: containers.dask_spec_hash(spec)}
    assert containers.dask_spec_labels({"image": "gds:1"}, LABEL_SPEC) == {
        LABEL_SPEC: containers.dask_spec_hash({"image": "gds:1"})}


def test_a_container_is_current_only_running_on_that_image_from_that_spec():
    spec = {"image": "gds:1", "command": ["dask", "worker"]}
    made = dict(container("dask-worker", **containers.dask_spec_labels(spec, LABEL_SPEC)), ImageID="sha256:a")
    plan = containers.dask_container_plan
    assert plan([container("other"), made], "dask-worker", "sha256:a", spec, LABEL_SPEC) == "current"
    assert plan([made], "dask-worker", "sha256:b", spec, LABEL_SPEC) == "recreate"  # a new image under that tag
    assert plan([made], "dask-worker", "", spec, LABEL_SPEC) == "recreate"  # nothing says it holds the image
    changed = dict(spec, command=["dask", "scheduler"])
    assert plan([made], "dask-worker", "sha256:a", changed, LABEL_SPEC) == "recreate"
    assert plan([made], "dask-scheduler", "sha256:a", spec, LABEL_SPEC) == "start"
    assert plan(None, "dask-worker", "sha256:a", spec, LABEL_SPEC) == "start"


def test_a_paused_container_is_resumed_when_otherwise_as_asked_and_a_stopped_one_started():
    spec = {"image": "gds:1", "command": ["dask", "worker"]}
    made = dict(container("dask-worker", **containers.dask_spec_labels(spec, LABEL_SPEC)), ImageID="sha256:a")
    plan = containers.dask_container_plan
    paused = dict(made, State="paused")
    assert plan([paused], "dask-worker", "sha256:a", spec, LABEL_SPEC) == "resume"
    assert plan([paused], "dask-worker", "sha256:b", spec, LABEL_SPEC) == "recreate"  # holds what a change loses
    for state in ("exited", "created", "dead"):
        assert plan([dict(made, State=state)], "dask-worker", "sha256:a", spec, LABEL_SPEC) == "start"
        assert plan([dict(made, State=state)], "dask-worker", "sha256:b", spec, LABEL_SPEC) == "start"


def test_each_filter_is_offered_under_its_own_name():
    for module in (containers, images):
        offered = module.FilterModule().filters()
        assert offered and all(getattr(module, name) is function for name, function in offered.items())
