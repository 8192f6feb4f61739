"""A faithful stand-in for Meltano's Airbyte wrapper (`tap-airbyte`), written for these tests.

Why not the real one: the only release on PyPI, tap-airbyte 0.0.2, never runs `docker` (it executes
/airbyte/base.sh, i.e. it must live inside an Airbyte image) and fails on the first per-stream STATE;
the docker-running versions are not published on PyPI. This script reproduces the wrapper's contract
with the connector as documented in airbyte-protocol.md §8:

  * every connector call is `docker run --rm -i -v <host tmpdir>:/tmp [--mount source=…,target=…,type=bind]
    IMAGE:TAG <cmd> --config /tmp/config.json [--catalog /tmp/catalog.json] [--state /tmp/state.json]`
    (no `-e`), through whatever `docker` is first on PATH;
  * the configured catalog sends only {stream, sync_mode, destination_sync_mode: "append"} per stream;
  * RECORD data is re-emitted as a Singer RECORD keyed by stream name; LOG goes to stderr;
  * STATE: `state.type` is required (KeyError otherwise); per-stream states are merged into a list
    (`airbyte_state`) that the next run passes back as /tmp/state.json;
  * a TRACE error or a non-zero exit fails the run.

Usage (Singer conventions): python meltano_harness.py --config C --discover
                            python meltano_harness.py --config C --catalog SINGER_CATALOG [--state S]
Config: {"airbyte_spec": {"image": "org/name", "tag": "x"}, "airbyte_config": {...},
         "docker_mounts": [{"source": host, "target": ctr, "type": "bind"}]}
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from copy import deepcopy

MOUNT_DIR = "/tmp"


class AirbyteError(Exception):
    pass


def docker_cmd(cfg, host_tmp, *airbyte_cmd):
    spec = cfg["airbyte_spec"]
    mounts = []
    for m in cfg.get("docker_mounts", []):
        mounts += ["--mount", "source=%s,target=%s,type=%s" % (m["source"], m["target"], m.get("type", "bind"))]
    return ["docker", "run", "--rm", "-i", "-v", "%s:%s" % (host_tmp, MOUNT_DIR), *mounts,
            "%s:%s" % (spec["image"], spec["tag"]), *airbyte_cmd]


def handle_log_or_trace(msg):
    if msg["type"] == "LOG":
        sys.stderr.write("airbyte %s: %s\n" % (msg["log"].get("level"), msg["log"].get("message")))
    elif msg["type"] == "TRACE" and msg["trace"].get("type") == "ERROR":
        raise AirbyteError(msg["trace"]["error"]["message"])


def run_collect(cfg, *cmd, files):
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            with open(os.path.join(tmp, name), "w") as f:
                json.dump(content, f)
        proc = subprocess.run(docker_cmd(cfg, tmp, *cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = []
    for line in proc.stdout.decode().splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg["type"] in ("LOG", "TRACE"):
            handle_log_or_trace(msg)
        else:
            out.append(msg)
    if proc.returncode != 0:
        raise AirbyteError("connector exited %d: %s" % (proc.returncode, proc.stderr.decode()[-500:]))
    return out


def airbyte_catalog(cfg):
    msgs = run_collect(cfg, "discover", "--config", MOUNT_DIR + "/config.json",
                       files={"config.json": cfg.get("airbyte_config", {})})
    for m in msgs:
        if m["type"] == "CATALOG":
            return m["catalog"]
    raise AirbyteError("no CATALOG")


def discover(cfg):
    streams = []
    for s in airbyte_catalog(cfg)["streams"]:
        pk = s.get("source_defined_primary_key") or []
        streams.append({
            "tap_stream_id": s["name"], "stream": s["name"], "schema": s["json_schema"],
            "key_properties": [p[0] for p in pk],
            "replication_method": "INCREMENTAL" if "incremental" in s["supported_sync_modes"] else "FULL_TABLE",
            "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
        })
    json.dump({"streams": streams}, sys.stdout)
    sys.stdout.write("\n")


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")


def sync(cfg, singer_catalog, state):
    selected = {s["tap_stream_id"]: s for s in singer_catalog["streams"]
                if any(m["breadcrumb"] == [] and m["metadata"].get("selected") for m in s.get("metadata", []))}
    configured = {"streams": []}
    for s in airbyte_catalog(cfg)["streams"]:
        entry = selected.get(s["name"])
        if entry is None:
            continue
        mode = "incremental" if entry.get("replication_method") in ("INCREMENTAL", "LOG_BASED") else "full_refresh"
        if mode not in s["supported_sync_modes"]:
            mode = s["supported_sync_modes"][0]
        configured["streams"].append({"stream": s, "sync_mode": mode, "destination_sync_mode": "append"})
    for name, entry in selected.items():
        emit({"type": "SCHEMA", "stream": name, "schema": entry["schema"], "key_properties": entry.get("key_properties", [])})

    airbyte_state = deepcopy(state or {})
    files = {"config.json": cfg.get("airbyte_config", {}), "catalog.json": configured}
    cmd = ["read", "--config", MOUNT_DIR + "/config.json", "--catalog", MOUNT_DIR + "/catalog.json"]
    if airbyte_state:
        files["state.json"] = airbyte_state.get("airbyte_state", airbyte_state)
        cmd += ["--state", MOUNT_DIR + "/state.json"]
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            with open(os.path.join(tmp, name), "w") as f:
                json.dump(content, f)
        proc = subprocess.Popen(docker_cmd(cfg, tmp, *cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for line in proc.stdout:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                t = msg["type"]
                if t == "RECORD":
                    emit({"type": "RECORD", "stream": msg["record"]["stream"], "record": msg["record"]["data"]})
                elif t in ("LOG", "TRACE"):
                    handle_log_or_trace(msg)
                elif t == "STATE":
                    st = msg["state"]
                    st_type = st["type"]  # required: a state without `type` fails here, as in the wrapper
                    v2 = deepcopy(airbyte_state.get("airbyte_state", []))
                    if st_type == "STREAM":
                        desc = st["stream"]["stream_descriptor"]
                        for e in v2:
                            if e["type"] == "STREAM" and e["stream"]["stream_descriptor"] == desc:
                                e["stream"]["stream_state"] = st["stream"]["stream_state"]
                                break
                        else:
                            v2.append({"type": "STREAM", "stream": st["stream"]})
                        unpacked = st["stream"]
                    elif st_type == "GLOBAL":
                        v2 = [e for e in v2 if e["type"] != "GLOBAL"] + [{"type": "GLOBAL", "global": st["global"]}]
                        unpacked = st["global"]
                    else:
                        v2 = [{"type": "LEGACY", "legacy": st["legacy"]}]
                        unpacked = st["legacy"]
                    airbyte_state = deepcopy(unpacked)
                    airbyte_state["airbyte_state"] = v2
                    emit({"type": "STATE", "value": airbyte_state})
        except BaseException:
            proc.kill()
            raise
        code = proc.wait()
        if code != 0:
            raise AirbyteError("connector exited %d: %s" % (code, proc.stderr.read().decode()[-500:]))
    emit({"type": "STATE", "value": airbyte_state})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--discover", action="store_true")
    ap.add_argument("--catalog")
    ap.add_argument("--state")
    a = ap.parse_args()
    cfg = json.load(open(a.config))
    if a.discover:
        discover(cfg)
        return 0
    state = json.load(open(a.state)) if a.state else None
    sync(cfg, json.load(open(a.catalog)), state)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AirbyteError as e:
        sys.stderr.write("tap failed: %s\n" % e)
        sys.exit(1)
