#!/usr/bin/env bash
# Writes a kustomize overlay of deploy/k8s/base into DIR with fresh secrets:
# a CA and one certificate naming every Arca Service (arca-tls), the
# services' own token (arca-service-token), a tokens file admitting them
# and one admin (arca-tokens), and the keys to the blob bucket
# (arca-s3-credentials, from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in
# this script's environment; edit s3-credentials.env if they were not set).
# Prints the admin token, once. DIR holds the
# CA key and the tokens: keep it out of version control, or encrypt it.
# Usage: deploy/k8s/make-secrets.sh DIR [NAMESPACE]   (default: default)
# Then: kubectl apply -n NAMESPACE -k DIR; docs/security.md says how to add
# users, rotate and revoke.
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DIR [NAMESPACE]" >&2
  exit 2
fi
dir=$1
namespace=${2:-default}
if [ -e "$dir" ]; then
  echo "$dir exists; name a new folder" >&2
  exit 2
fi
mkdir -p "$dir"
chmod 700 "$dir"
base=$(realpath --relative-to="$dir" "$(dirname "$0")/base")
cd "$dir"
umask 077

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
  -out ca.crt -subj /CN=arca-ca -days 3650 2>/dev/null
# localhost for the probes, which run `arca health` inside each pod.
names="DNS:localhost,IP:127.0.0.1"
for s in catalog collector retention-gc scheduler-attribute gateway; do
  for n in "arca-$s" "arca-$s.$namespace" "arca-$s.$namespace.svc" \
           "arca-$s.$namespace.svc.cluster.local"; do
    names="$names,DNS:$n"
  done
done
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout tls.key \
  -out tls.csr -subj /CN=arca 2>/dev/null
printf 'subjectAltName=%s\n' "$names" > tls.ext
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt \
  -days 365 -extfile tls.ext 2>/dev/null
rm tls.csr tls.ext

hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
service=$(openssl rand -hex 32)
admin=$(openssl rand -hex 32)
printf %s "$service" > token
cat > tokens.txt <<EOT
# sha256:<hex of the token> <groups|*> <privacy level> <name> <role>  (docs/security.md)
sha256:$(hash "$service") * highly_sensitive arca-services service
sha256:$(hash "$admin") * highly_sensitive admin admin
EOT
cat > s3-credentials.env <<EOT
AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-set-me}
AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-set-me}
EOT
cat > kustomization.yaml <<EOT
# Arca with its secrets, made by deploy/k8s/make-secrets.sh.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $base
# Fixed names: a changed secret reaches the running pods (the services read
# tokens and certificates again when they change), no restart needed.
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
  - name: arca-tokens
    files: [tokens.txt]
  - name: arca-service-token
    files: [token]
  - name: arca-tls
    type: kubernetes.io/tls
    files: [tls.crt, tls.key, ca.crt]
  - name: arca-s3-credentials
    envs: [s3-credentials.env]
EOT
[ -n "${AWS_ACCESS_KEY_ID:-}" ] ||
  echo "AWS_ACCESS_KEY_ID was not set: put the bucket's keys in $dir/s3-credentials.env"
echo "wrote $dir; admin token (shown once): $admin"
