# scripts/lib/lab-sshd.sh: the sshd of a lab in network namespaces (demo.sh,
# bench-proxy.sh), sourced.
#
# lab_sshd_files DIR LISTEN writes in DIR: a client key (id_ed25519, .pub), a host key
# (host_ed25519), authorized_keys holding the client key, and sshd_config: port 22 on the
# address LISTEN, key logins only (root too), no PAM, the pid in DIR/sshd.pid. The caller
# then runs `/usr/sbin/sshd -f DIR/sshd_config` in the server namespace. Status 1 when a
# key cannot be made.
lab_sshd_files() {
  local dir=$1 listen=$2
  ssh-keygen -q -t ed25519 -N '' -C knock-lab -f "$dir/id_ed25519" || return 1
  ssh-keygen -q -t ed25519 -N '' -C knock-lab -f "$dir/host_ed25519" || return 1
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  mkdir -p /run/sshd
  cat > "$dir/sshd_config" <<CONF
Port 22
ListenAddress $listen
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
}
