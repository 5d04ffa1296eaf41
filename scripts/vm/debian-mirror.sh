# Sourced by scripts/vm/build-kernel and scripts/vm/setup-qemu (bash): `debian_mirror` prints
# the Debian mirror this machine's apt already uses (deb822 sources first, then one-line ones;
# never the security archive), or nothing. Both reach trixie through a private apt setup on it.
debian_mirror() {
  local f mirror=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [ -n "$mirror" ] && break
  done
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) print $i; break } }' \
      /etc/apt/sources.list | head -n 1)
  fi
  printf '%s' "$mirror"
}
