#!/usr/bin/env python3
"""Checks deploy/ against the code it deploys, with no cluster and no Docker:

- promtool accepts the Prometheus configuration and alert rules, and the
  alert unit tests pass (each alert fires and resolves);
- every Kubernetes manifest parses; the kustomization's files exist; each
  workload runs the arca image with a binary the build makes, only flags
  that binary accepts, container ports that match its --listen and
  --metrics_listen, probes on those ports, scrape annotations on the
  metrics port; Services select a workload and target its named ports;
  volumes and claims resolve;
- the Dockerfile copies every binary the manifests run, and every Debian
  package it installs exists.

Usage: check_deploy.py BIN_DIR
"""
import glob
import os
import re
import subprocess
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.path.abspath(sys.argv[1])
failures = []
checks = 0


def check(ok, message):
    global checks
    checks += 1
    if not ok:
        failures.append(message)


def run(*argv):
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


# ------------------------------------------------------------ Prometheus
prom = os.path.join(ROOT, "deploy", "prometheus")
for argv in (["promtool", "check", "config", "prometheus.yml"],
             ["promtool", "check", "rules", "alerts.yml"],
             ["promtool", "test", "rules", "alerts_test.yml"]):
    p = subprocess.run(argv, cwd=prom, capture_output=True, text=True)
    check(p.returncode == 0, f"{' '.join(argv)}: {p.stdout}{p.stderr}")

# ------------------------------------------------------------ Kubernetes
base = os.path.join(ROOT, "deploy", "k8s", "base")
kustomization = yaml.safe_load(open(os.path.join(base, "kustomization.yaml")))
for f in kustomization["resources"]:
    check(os.path.exists(os.path.join(base, f)), f"kustomization names missing {f}")
for gen in kustomization.get("secretGenerator", []):
    for f in gen["files"]:
        check(os.path.exists(os.path.join(base, f)), f"secretGenerator names missing {f}")

docs = []
for f in sorted(glob.glob(os.path.join(base, "*.yaml"))):
    for d in yaml.safe_load_all(open(f)):
        if d and d.get("kind") != "Kustomization":
            docs.append((os.path.basename(f), d))
listed = {os.path.basename(f) for f, _ in docs}
check(listed == set(kustomization["resources"]),
      f"manifests {sorted(listed)} differ from the kustomization's {kustomization['resources']}")

helps = {}


def flags_of(binary):
    if binary not in helps:
        path = os.path.join(BIN, binary)
        if not os.path.exists(path):
            helps[binary] = None
        else:
            _, out = run(path, "--helpfull")
            helps[binary] = set(re.findall(r"^\s+--([a-z_0-9]+)", out, re.M))
    return helps[binary]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


claims = {d["metadata"]["name"] for _, d in docs if d["kind"] == "PersistentVolumeClaim"}
workloads = {}
commands = set()
for f, d in docs:
    if d["kind"] not in ("Deployment", "StatefulSet"):
        continue
    name = d["metadata"]["name"]
    spec = d["spec"]["template"]
    workloads[name] = d
    check(d["spec"]["selector"]["matchLabels"].items() <= spec["metadata"]["labels"].items(),
          f"{name}: selector does not match its pod labels")
    if d["kind"] == "StatefulSet":
        check(d["spec"]["replicas"] == 1, f"{name}: the catalog is a single writer")
    volumes = {v["name"]: v for v in spec["spec"].get("volumes", [])}
    volumes.update({t["metadata"]["name"]: t for t in d["spec"].get("volumeClaimTemplates", [])})
    for v in volumes.values():
        if "persistentVolumeClaim" in v:
            check(v["persistentVolumeClaim"]["claimName"] in claims,
                  f"{name}: claim {v['persistentVolumeClaim']['claimName']} is not defined")
    for c in spec["spec"]["containers"]:
        where = f"{f}: {name}/{c['name']}"
        check(c["image"].split(":")[0] == "arca", f"{where}: image {c['image']} is not the arca image")
        binary = c["command"][0]
        commands.add(binary)
        flags = flags_of(binary)
        check(flags is not None, f"{where}: the build makes no binary {binary}")
        args = dict(a[2:].split("=", 1) for a in c.get("args", []))
        for flag in args:
            check(flags is None or flag in flags, f"{where}: {binary} has no flag --{flag}")
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        main = "http" if "http" in ports else "grpc"
        check(port_of(args.get("listen", ":0")) == ports.get(main),
              f"{where}: --listen {args.get('listen')} is not the {main} port {ports.get(main)}")
        check(port_of(args.get("metrics_listen", ":0")) == ports.get("metrics"),
              f"{where}: --metrics_listen is not the metrics port")
        annotations = spec["metadata"].get("annotations", {})
        check(annotations.get("prometheus.io/scrape") == "true" and
              int(annotations.get("prometheus.io/port", 0)) == ports.get("metrics"),
              f"{where}: scrape annotations do not point at the metrics port")
        for probe in ("readinessProbe", "livenessProbe"):
            p = c.get(probe)
            check(p is not None, f"{where}: no {probe}")
            if not p:
                continue
            if "grpc" in p:
                check(p["grpc"]["port"] == ports["grpc"], f"{where}: {probe} is not on the gRPC port")
            elif "httpGet" in p:
                port = p["httpGet"]["port"]
                check(port in ports or port in ports.values(), f"{where}: {probe} port {port} unknown")
                check(p["httpGet"]["path"] == "/healthz", f"{where}: {probe} path is not /healthz")
            else:
                check(False, f"{where}: {probe} is neither gRPC nor HTTP")
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes, f"{where}: mount {m['name']} has no volume")

for f, d in docs:
    if d["kind"] != "Service":
        continue
    name = d["metadata"]["name"]
    targets = [w for w in workloads.values()
               if d["spec"]["selector"].items() <= w["spec"]["template"]["metadata"]["labels"].items()]
    check(len(targets) == 1, f"{f}: Service {name} selects {len(targets)} workloads")
    if targets:
        names = {p["name"] for c in targets[0]["spec"]["template"]["spec"]["containers"]
                 for p in c["ports"]}
        for p in d["spec"]["ports"]:
            check(p["targetPort"] in names, f"{f}: Service {name} targets unknown port {p['targetPort']}")
check(commands == {"arca-catalog", "arca-collector", "arca-retention-gc",
                   "arca-scheduler-attribute", "arca-gateway"},
      f"the manifests run {sorted(commands)}, not the five services")

# ---------------------------------------------------------------- Docker
dockerfile = open(os.path.join(ROOT, "deploy", "docker", "Dockerfile")).read()
copied = set(re.findall(r"/src/build/bin/([a-z-]+)", dockerfile))
for binary in commands | {"arca"}:
    check(binary in copied, f"the Dockerfile does not copy {binary}")
    check(os.path.exists(os.path.join(BIN, binary)), f"the build makes no {binary}")
packages = set()
for block in re.findall(r"apt-get install -y --no-install-recommends(.*?)&&", dockerfile, re.S):
    packages |= set(block.replace("\\", " ").split())
for package in sorted(packages):
    code, out = run("apt-cache", "show", package)
    check(code == 0 and "Package:" in out, f"the Dockerfile installs {package}, which Debian lacks")

if failures:
    print("\n".join("FAIL: " + f for f in failures))
    print(f"deploy: {checks - len(failures)} passed, {len(failures)} failed")
    sys.exit(1)
print(f"deploy: {checks} passed, 0 failed")
