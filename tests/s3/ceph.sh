#!/usr/bin/env bash
# A single-node Ceph with an S3 endpoint (radosgw) on loopback, from Debian's
# packages, for the S3 tests and `up.sh --s3`: one monitor, one OSD (bluestore
# on a sparse file), one radosgw, every pool of size 1.
#
#   tests/s3/ceph.sh start DIR   starts it (or restarts it on DIR's data) and
#                                writes DIR/env: ARCA_S3_ENDPOINT,
#                                AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
#                                AWS_REGION, for `source`; and for TLS,
#                                ARCA_S3_TLS_ENDPOINT (the same store over
#                                https, its certificate self-signed) and
#                                ARCA_S3_TLS_CA (that certificate)
#   tests/s3/ceph.sh stop DIR    stops its daemons (the data stays)
#
# Ports are picked free at first start and kept in DIR/ports.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: tests/s3/ceph.sh start|stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/ceph.conf

stop() {
  for pidfile in "$dir"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/run/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: tests/s3/ceph.sh start|stop DIR" >&2; exit 2; }

for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install ceph-mon ceph-osd radosgw" >&2; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Polls `$@` until it succeeds, for at most $1 seconds.
wait_for() {
  local seconds=$1; shift
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
    sleep 0.2
  done
}

fresh=0
if [ ! -e "$dir/ports" ]; then
  fresh=1
  echo "mon=$(free_port) rgw=$(free_port) tls=$(free_port)" > "$dir/ports"
fi
read -r mon_kv rgw_kv tls_kv < "$dir/ports"
mon_port=${mon_kv#mon=}
rgw_port=${rgw_kv#rgw=}
tls_port=${tls_kv#tls=}
if [ -z "$tls_port" ]; then  # data from before the store had TLS
  tls_port=$(free_port)
  echo "mon=$mon_port rgw=$rgw_port tls=$tls_port" > "$dir/ports"
fi
if [ ! -e "$dir/tls.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/tls.key" -out "$dir/tls.pem" 2>/dev/null
fi

mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/osd0"
cat > "$conf" <<CONF
[global]
fsid = $( [ -e "$dir/fsid" ] || uuidgen > "$dir/fsid"; cat "$dir/fsid" )
mon host = v2:127.0.0.1:$mon_port
public network = 127.0.0.0/8
keyring = $dir/\$name.keyring
run dir = $dir/run
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
ms bind ipv6 = false
[mon]
mon data = $dir/mon
mon cluster log file = $dir/log/cluster.log
[osd]
osd data = $dir/osd0
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 21474836480
bluestore fsck on mount = false
osd memory target = 939524096
bluestore cache autotune = false
bluestore cache size = 134217728
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port ssl_endpoint=127.0.0.1:$tls_port ssl_certificate=$dir/tls.pem ssl_private_key=$dir/tls.key
rgw data = $dir/rgw
rgw dns name = 127.0.0.1
rgw thread pool size = 64
CONF

stop  # whatever a previous start left

if [ "$fresh" = 1 ]; then
  ceph-authtool --create-keyring "$dir/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$dir/mon.a.keyring" --import-keyring "$dir/client.admin.keyring" >/dev/null
  monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$(cat "$dir/fsid")" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >/dev/null
fi
ceph-mon -c "$conf" -i a
wait_for 60 ceph -c "$conf" --connect-timeout 5 mon stat || { echo "ceph-mon did not start; see $dir/log" >&2; exit 1; }

if [ "$fresh" = 1 ]; then
  uuid=$(uuidgen)
  id=$(ceph -c "$conf" osd new "$uuid")
  [ "$id" = 0 ] || { echo "unexpected OSD id $id" >&2; exit 1; }
  ceph -c "$conf" auth get-or-create osd.0 mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' \
    -o "$dir/osd.0.keyring"
  ceph -c "$conf" auth get-or-create client.rgw mon 'allow rw' osd 'allow rwx' -o "$dir/client.rgw.keyring"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >"$dir/log/mkfs.log" 2>&1 \
    || { cat "$dir/log/mkfs.log" >&2; exit 1; }
fi
ceph-osd -c "$conf" -i 0 2>>"$dir/log/osd.0.stderr"
wait_for 90 sh -c "ceph -c '$conf' osd dump | grep -q '^osd.0 up'" || { echo "ceph-osd did not come up; see $dir/log" >&2; exit 1; }

radosgw -c "$conf" -n client.rgw
wait_for 120 curl -fsS "http://127.0.0.1:$rgw_port/" || { echo "radosgw did not answer; see $dir/log" >&2; exit 1; }

if [ "$fresh" = 1 ]; then
  key=arca$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
  secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
  radosgw-admin -c "$conf" user create --uid=arca --display-name=arca \
    --access-key="$key" --secret-key="$secret" >/dev/null
  cat > "$dir/env" <<ENV
export ARCA_S3_ENDPOINT=http://127.0.0.1:$rgw_port
export AWS_ACCESS_KEY_ID=$key
export AWS_SECRET_ACCESS_KEY=$secret
export AWS_REGION=us-east-1
ENV
fi
if ! grep -q ARCA_S3_TLS_ENDPOINT "$dir/env"; then
  cat >> "$dir/env" <<ENV
export ARCA_S3_TLS_ENDPOINT=https://127.0.0.1:$tls_port
export ARCA_S3_TLS_CA=$dir/tls.pem
ENV
fi
echo "S3 endpoint http://127.0.0.1:$rgw_port (credentials in $dir/env)"
