#!/usr/bin/env bash
# Writes a lab's credentials and client config into LABDIR, for the hosts
# given as NAME=ADDRESS:
#   id_ed25519            the key the tests log in with (root on every host)
#   known_hosts           every host's key, pinned under its name and address
#   ssh_config            Host entries per name and address (ssh -F ssh_config)
#   bin/ssh               ssh with that config, for programs that run `ssh` by
#                         name (docker's ssh:// connection helper)
#   tls/client/           ca.pem, cert.pem, key.pem: DOCKER_CERT_PATH
#   hosts/NAME/           mounted at /lab in the host: its ssh host key, the
#                         authorized key, and tls/ (its dockerd's server cert)
# Nothing outside LABDIR is read or changed (the user's ~/.ssh included).
set -euo pipefail
dir=${1:?usage: creds.sh LABDIR NAME=ADDRESS...}
shift
mkdir -p "$dir/bin" "$dir/tls/client"
real_ssh=$(command -v ssh)
ssh-keygen -q -t ed25519 -N '' -C greenlight-lab -f "$dir/id_ed25519"

# A CA for the hosts' dockerd (tcp 2376, TLS verified both ways).
ca=$dir/tls/ca
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
  -subj /CN=greenlight-lab-ca -keyout "$ca-key.pem" -out "$ca.pem" 2>/dev/null
cert() { # OUTDIR CN EXTENSIONS
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=$2" -keyout "$1/key.pem" -out "$1/req.pem" 2>/dev/null
  openssl x509 -req -in "$1/req.pem" -CA "$ca.pem" -CAkey "$ca-key.pem" -set_serial "0x$(openssl rand -hex 8)" \
    -days 7 -extfile <(printf '%s\n' "$3") -out "$1/cert.pem" 2>/dev/null
  rm "$1/req.pem"
  cp "$ca.pem" "$1/ca.pem"
}
cert "$dir/tls/client" greenlight-lab-client 'extendedKeyUsage=clientAuth'

names=()
: >"$dir/known_hosts"
: >"$dir/ssh_config"
for host in "$@"; do
  name=${host%%=*} address=${host#*=}
  names+=("$name" "$address")
  h=$dir/hosts/$name
  mkdir -p "$h/tls"
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$h/ssh_host_ed25519_key"
  cp "$dir/id_ed25519.pub" "$h/authorized_keys"
  read -r type key _ <"$h/ssh_host_ed25519_key.pub"
  echo "$name,$address $type $key" >>"$dir/known_hosts"
  cert "$h/tls" "$name" "subjectAltName=DNS:$name,IP:$address,DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
  printf 'Host %s %s\n  HostName %s\n\n' "$name" "$address" "$address" >>"$dir/ssh_config"
done
cat >>"$dir/ssh_config" <<CONFIG
Host ${names[*]}
  User root
  IdentityFile "$dir/id_ed25519"
  IdentitiesOnly yes
  UserKnownHostsFile "$dir/known_hosts"
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 3
  ServerAliveInterval 2
  ServerAliveCountMax 3
  LogLevel ERROR
CONFIG

cat >"$dir/bin/ssh" <<WRAPPER
#!/bin/sh
exec '$real_ssh' -F '$dir/ssh_config' "\$@"
WRAPPER
chmod 0755 "$dir/bin/ssh"
