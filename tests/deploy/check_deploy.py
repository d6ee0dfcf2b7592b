#!/usr/bin/env python3
"""Checks deploy/ against the code it deploys, with no cluster and no Docker:

- promtool accepts the Prometheus configuration and alert rules, and the
  alert unit tests pass (each alert fires and resolves);
- every Kubernetes manifest parses; the kustomization's files exist; each
  workload runs the arca image with a binary the build makes, only flags
  that binary accepts, container ports that match its --listen and
  --metrics_listen, probes on those ports, scrape annotations on the
  metrics port; Services select a workload and target its named ports;
  volumes and claims resolve; $(VARS) in arguments come from the pod's env
  (a ConfigMap of the base, a Secret make-secrets.sh fills); the collector,
  retention-gc and gateway take their blobs from the bucket, not a shared
  volume;
- every listener has TLS and every gRPC service tokens; the flags' files
  come from Secrets that deploy/k8s/make-secrets.sh generates, and what it
  generates works: the real catalog serves with its certificate and tokens
  and the CLI sees the admin and the services' identity through them;
- the NetworkPolicy admits only Arca's pods to the gRPC ports;
- pods run as the image's non-root user with its fsGroup (so a fresh
  volume is writable), no privilege escalation, no capabilities and a
  read-only root file system, every directory a service writes on a
  volume;
- every replicated workload has a PodDisruptionBudget, the single-writer
  catalog none;
- every object, the PodMonitor's included, is valid by Kubernetes' own
  schemas (the kubernetes-models packages from npm);
- the Dockerfile copies every binary the manifests run, every Debian
  package it installs exists, and .dockerignore keeps local build trees and
  state out of the image's context.

Usage: check_deploy.py BIN_DIR
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

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
# The image is the release, never a moving tag.
release = re.search(r'kVersion\[\] = "([^"]+)"', open(os.path.join(ROOT, "common", "version.h")).read()).group(1)
check([i.get("newTag") for i in kustomization.get("images", []) if i["name"] == "arca"] == [release],
      f"the base's arca image is not tagged with the release {release}")
check(f"-t arca:{release} ." in open(os.path.join(ROOT, "deploy", "docker", "Dockerfile")).read(),
      f"the Dockerfile's build line does not tag arca:{release}")

# The overlay make-secrets.sh writes: which files each Secret holds.
scratch = tempfile.mkdtemp(prefix="arca-deploy-")
overlay = os.path.join(scratch, "overlay")
code, made = run(os.path.join(ROOT, "deploy", "k8s", "make-secrets.sh"), overlay, "arca")
check(code == 0, f"make-secrets.sh failed: {made}")
secret_files = {}
if code == 0:
    generated = yaml.safe_load(open(os.path.join(overlay, "kustomization.yaml")))
    check(os.path.normpath(os.path.join(overlay, generated["resources"][0])) == base,
          f"the overlay does not build on the base: {generated['resources']}")
    for gen in generated["secretGenerator"]:
        secret_files[gen["name"]] = set(gen.get("files", []))
        for f in gen.get("files", []) + gen.get("envs", []):
            check(os.path.exists(os.path.join(overlay, f)), f"make-secrets.sh did not write {f}")
        # An env file's keys are the Secret's keys.
        for f in gen.get("envs", []):
            for line in open(os.path.join(overlay, f)):
                if "=" in line and not line.startswith("#"):
                    secret_files[gen["name"]].add(line.split("=", 1)[0].strip())

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


# Each gRPC binary's service, as its health reports it.
GRPC_SERVICES = {
    "arca-catalog": "arca.catalog.v1.Catalog",
    "arca-collector": "arca.collector.v1.Collector",
    "arca-retention-gc": "arca.retention.v1.RetentionGc",
    "arca-scheduler-attribute": "arca.scheduling.v1.SchedulerAttribute",
}


def port_of(address):
    return int(address.rsplit(":", 1)[1])


claims = {d["metadata"]["name"] for _, d in docs if d["kind"] == "PersistentVolumeClaim"}
config_maps = {d["metadata"]["name"]: set(d.get("data", {})) for _, d in docs if d["kind"] == "ConfigMap"}
# The user the image runs as (its USER uid:gid).
IMAGE_UID = int(re.search(r"^USER (\d+):\d+$",
                          open(os.path.join(ROOT, "deploy", "docker", "Dockerfile")).read(),
                          re.M).group(1))
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
    pod_security = spec["spec"].get("securityContext", {})
    check(pod_security.get("runAsNonRoot") is True, f"{name}: pods may run as root")
    # A fresh volume is root's: without fsGroup the image's user cannot
    # write the catalog or the blobs there.
    check(pod_security.get("runAsUser") == IMAGE_UID and pod_security.get("fsGroup") == IMAGE_UID,
          f"{name}: runAsUser and fsGroup are not the image's user {IMAGE_UID}")
    for c in spec["spec"]["containers"]:
        where = f"{f}: {name}/{c['name']}"
        check(c["image"].split(":")[0] == "arca", f"{where}: image {c['image']} is not the arca image")
        security = c.get("securityContext", {})
        check(security.get("allowPrivilegeEscalation") is False, f"{where}: allows privilege escalation")
        check(security.get("readOnlyRootFilesystem") is True, f"{where}: the root file system is writable")
        check(security.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: keeps capabilities")
        binary = c["command"][0]
        commands.add(binary)
        flags = flags_of(binary)
        check(flags is not None, f"{where}: the build makes no binary {binary}")
        args = dict(a[2:].split("=", 1) for a in c.get("args", []))
        for flag in args:
            check(flags is None or flag in flags, f"{where}: {binary} has no flag --{flag}")
        # With a read-only root, every directory the service writes is a volume.
        mounts = [m["mountPath"] for m in c.get("volumeMounts", []) if not m.get("readOnly")]
        for flag, value in args.items():
            if flag.endswith("_dir"):
                check(any(value == m or value.startswith(m + "/") for m in mounts),
                      f"{where}: --{flag}={value} is on the read-only root file system")
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        main = "http" if "http" in ports else "grpc"
        check(port_of(args.get("listen", ":0")) == ports.get(main),
              f"{where}: --listen {args.get('listen')} is not the {main} port {ports.get(main)}")
        check(port_of(args.get("metrics_listen", ":0")) == ports.get("metrics"),
              f"{where}: --metrics_listen is not the metrics port")
        annotations = spec["metadata"].get("annotations", {})
        check(annotations.get("prometheus.io/scheme") == "https",
              f"{where}: metrics are served over TLS; the scrape annotation must say https")
        check(annotations.get("prometheus.io/scrape") == "true" and
              int(annotations.get("prometheus.io/port", 0)) == ports.get("metrics"),
              f"{where}: scrape annotations do not point at the metrics port")
        grpc_service = main == "grpc"
        check("tls_cert" in args and "tls_key" in args, f"{where}: its listeners have no TLS")
        check(not grpc_service or "tokens_file" in args, f"{where}: no --tokens_file")
        # $(VAR) in an argument: from the container's env, or a ConfigMap of
        # the base or a Secret make-secrets.sh fills that envFrom names.
        provided = {e["name"] for e in c.get("env", [])}
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                ref = source["configMapRef"]["name"]
                check(ref in config_maps, f"{where}: envFrom names ConfigMap {ref}, which the base lacks")
                provided |= config_maps.get(ref, set())
            if "secretRef" in source:
                ref = source["secretRef"]["name"]
                check(ref in secret_files, f"{where}: envFrom names Secret {ref}, which make-secrets.sh does not make")
                provided |= secret_files.get(ref, set())
        for value in args.values():
            for var in re.findall(r"\$\(([A-Z_0-9]+)\)", value):
                check(var in provided, f"{where}: $({var}) is set by nothing the pod gets")
        # Blobs live in the bucket: no workload shares a volume for them.
        check(binary not in ("arca-collector", "arca-retention-gc", "arca-gateway") or
              ("blob_store" in args and "blob_dir" not in args),
              f"{where}: blobs must come from --blob_store (the bucket), not a shared disk")
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        for flag, value in args.items():
            folder, _, file = value.rpartition("/")
            if folder in mounts and "secret" in volumes.get(mounts[folder], {}):
                secret = volumes[mounts[folder]]["secret"]["secretName"]
                check(file in secret_files.get(secret, set()),
                      f"{where}: --{flag} reads {file} from Secret {secret}, which make-secrets.sh "
                      f"does not fill with it")
        for probe in ("readinessProbe", "livenessProbe"):
            p = c.get(probe)
            check(p is not None, f"{where}: no {probe}")
            if not p:
                continue
            if "exec" in p:
                command = p["exec"]["command"]
                probe_args = dict(a[2:].split("=", 1) for a in command[2:])
                check(command[:2] == ["arca", "health"] and
                      port_of(probe_args.get("target", ":0")) == ports["grpc"],
                      f"{where}: {probe} is not `arca health` on the gRPC port")
                # Readiness asks about the service (NOT_SERVING while it cannot
                # do its job); liveness about the server as a whole.
                if probe == "readinessProbe":
                    check(probe_args.get("service") == GRPC_SERVICES.get(binary),
                          f"{where}: readinessProbe does not ask about "
                          f"{GRPC_SERVICES.get(binary)}")
                else:
                    check("service" not in probe_args,
                          f"{where}: livenessProbe asks about a service, not the server")
                check(probe_args.get("tls_ca") == args.get("tls_ca", "/etc/arca/tls/ca.crt") and
                      os.path.dirname(probe_args.get("tls_ca", "")) in mounts,
                      f"{where}: {probe} does not trust the mounted CA")
            elif "httpGet" in p:
                port = p["httpGet"]["port"]
                check(port in ports or port in ports.values(), f"{where}: {probe} port {port} unknown")
                want = "/readyz" if probe == "readinessProbe" else "/healthz"
                check(p["httpGet"]["path"] == want, f"{where}: {probe} path is not {want}")
                check(p["httpGet"].get("scheme") == "HTTPS", f"{where}: {probe} is not over HTTPS")
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


def selected(selector):
    """The workloads whose pods a label selector picks."""
    picked = set()
    for name, w in workloads.items():
        labels = w["spec"]["template"]["metadata"]["labels"]
        ok = selector.get("matchLabels", {}).items() <= labels.items()
        for e in selector.get("matchExpressions", []):
            ok = ok and e["operator"] == "In" and labels.get(e["key"]) in e["values"]
        if ok:
            picked.add(name)
    return picked


# The PodMonitor component: it scrapes every workload's metrics port, with
# the CA the pods' certificate comes from and a name that certificate has.
component = os.path.join(ROOT, "deploy", "k8s", "components", "podmonitor")
comp = yaml.safe_load(open(os.path.join(component, "kustomization.yaml")))
check(comp["kind"] == "Component", "the PodMonitor is not a kustomize Component")
monitor = yaml.safe_load(open(os.path.join(component, comp["resources"][0])))
check(monitor["kind"] == "PodMonitor", "the component holds no PodMonitor")
check(selected(monitor["spec"]["selector"]) == set(workloads),
      f"the PodMonitor picks {sorted(selected(monitor['spec']['selector']))}, not every workload")
for endpoint in monitor["spec"]["podMetricsEndpoints"]:
    for name, w in workloads.items():
        ports = {p.get("name") for c in w["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
        check(endpoint["port"] in ports, f"the PodMonitor scrapes port {endpoint['port']}, which {name} lacks")
    check(endpoint["scheme"] == "https" and endpoint["tlsConfig"]["ca"]["secret"] == {"name": "arca-tls", "key": "ca.crt"},
          "the PodMonitor does not scrape over TLS with arca-tls's CA")
    # make-secrets.sh names the certificate after each service (and localhost).
    check(endpoint["tlsConfig"]["serverName"] in set(workloads) | {"localhost"},
          f"the certificate has no name {endpoint['tlsConfig']['serverName']}")


# Disruption budgets: one for each replicated workload, at most one pod
# down at a time; none for the catalog.
budgets = [d for _, d in docs if d["kind"] == "PodDisruptionBudget"]
for name, w in workloads.items():
    mine = [b for b in budgets if name in selected(b["spec"]["selector"])]
    if w["spec"].get("replicas", 1) > 1:
        check(len(mine) == 1 and mine[0]["spec"].get("maxUnavailable") == 1,
              f"{name}: want one PodDisruptionBudget with maxUnavailable 1, found {len(mine)}")
    else:
        check(not mine, f"{name}: a single replica under a disruption budget blocks node drains")

grpc_workloads = {n for n, w in workloads.items()
                  if any(p["name"] == "grpc" for c in w["spec"]["template"]["spec"]["containers"]
                         for p in c["ports"])}
policies = [d for _, d in docs if d["kind"] == "NetworkPolicy"]
check(len(policies) == 1, f"want one NetworkPolicy, found {len(policies)}")
for policy in policies:
    check(selected(policy["spec"]["podSelector"]) == grpc_workloads,
          f"the NetworkPolicy guards {sorted(selected(policy['spec']['podSelector']))}, "
          f"not the gRPC services {sorted(grpc_workloads)}")
    for rule in policy["spec"]["ingress"]:
        if {"port": "grpc"} not in rule.get("ports", []):
            continue
        sources = set()
        for peer in rule.get("from", [{}]):
            check("podSelector" in peer and "namespaceSelector" not in peer,
                  f"the NetworkPolicy admits {peer} to the gRPC ports")
            sources |= selected(peer.get("podSelector", {}))
        check(sources == set(workloads),
              f"the gRPC ports admit {sorted(sources)}, not exactly Arca's pods")

# What make-secrets.sh made works with the real binaries: the catalog serves
# its certificate for localhost (the probes' name) and checks its tokens.
if secret_files:
    admin = made.strip().rsplit(" ", 1)[-1]
    catalog = subprocess.Popen(
        [os.path.join(BIN, "arca-catalog"), "--listen=127.0.0.1:0", "--metrics_listen=",
         f"--data_dir={scratch}/db", "--min_free_bytes=0", "--reserve_bytes=0",
         f"--backup_dir={scratch}/backups", f"--tokens_file={overlay}/tokens.txt",
         f"--tls_cert={overlay}/tls.crt", f"--tls_key={overlay}/tls.key"],
        stderr=subprocess.PIPE, text=True)
    port = None
    deadline = time.monotonic() + 30
    while port is None and time.monotonic() < deadline:
        line = catalog.stderr.readline()
        if not line:
            break
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        port = m and m.group(1)
    check(port is not None, "the catalog did not start with make-secrets.sh's files")
    if port:
        def whoami(*extra, token=""):
            env = dict(os.environ, ARCA_CONFIG=f"{scratch}/no-config", ARCA_TOKEN=token)
            p = subprocess.run([os.path.join(BIN, "arca"), f"--catalog=localhost:{port}",
                                f"--tls_ca={overlay}/ca.crt", "whoami", *extra],
                               capture_output=True, text=True, env=env)
            return p.stdout + p.stderr
        out = whoami(token=admin)
        check("name:   admin\n" in out and "role:   admin\n" in out,
              f"the printed admin token is not the admin: {out}")
        out = whoami(f"--token_file={overlay}/token")
        check("name:   arca-services\n" in out and "role:   service\n" in out,
              f"the services' token is not a service identity: {out}")
        check("UNAUTHENTICATED" in whoami(), "the catalog admitted a call without a token")
    catalog.terminate()
    catalog.wait()
shutil.rmtree(scratch)

# Kubernetes' own schemas, from npm: every object of the base and the component.
objects = [{"file": f, "object": d} for f, d in docs] + [{"file": "podmonitor", "object": monitor}]
checker = tempfile.mkdtemp(prefix="arca-schemas-")
for f in ("package.json", "package-lock.json", "validate.mjs"):
    shutil.copy(os.path.join(ROOT, "tests", "deploy", f), checker)
with open(os.path.join(checker, "objects.json"), "w") as out:
    json.dump(objects, out)
p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=checker,
                   capture_output=True, text=True)
check(p.returncode == 0, f"npm ci of the schema packages failed: {p.stdout}{p.stderr}")
if p.returncode == 0:
    p = subprocess.run(["node", "validate.mjs", "objects.json"], cwd=checker, capture_output=True, text=True)
    check(p.returncode == 0 and f"{len(objects)} of {len(objects)} objects valid" in p.stdout,
          f"the manifests break Kubernetes' schemas: {p.stdout}{p.stderr}")
    print(p.stdout.strip())
shutil.rmtree(checker)

# ---------------------------------------------------------------- Docker
dockerfile = open(os.path.join(ROOT, "deploy", "docker", "Dockerfile")).read()
copied = set(re.findall(r"/src/build/bin/([a-z-]+)", dockerfile))
for binary in commands | {"arca"}:
    check(binary in copied, f"the Dockerfile does not copy {binary}")
    check(os.path.exists(os.path.join(BIN, binary)), f"the build makes no {binary}")
# What `COPY . .` leaves out: a local build tree (its CMake cache names
# this machine's paths and breaks the image's build), state, tool caches.
ignored = open(os.path.join(ROOT, ".dockerignore")).read().split() \
    if os.path.exists(os.path.join(ROOT, ".dockerignore")) else []
for pattern in ("build*", "var", ".git", "**/node_modules"):
    check(pattern in ignored, f".dockerignore does not leave out {pattern}")
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
