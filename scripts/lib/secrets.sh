# Sourced by scripts/cluster.sh and bench/security_cost.sh.
# make_secrets DIR: the secrets of a local secure setup, made once in DIR (mode 700): a CA
# (ca.pem, ca.key), one certificate for 127.0.0.1 that every broker serves and presents to the
# others (broker.pem, broker.key: serverAuth and clientAuth), the admin token (admin.token) and
# the ZooKeeper digest (zk.auth). Does nothing when DIR/admin.token exists.
make_secrets() {
  local sec=$1
  [ -f "$sec/admin.token" ] && return 0
  mkdir -p "$sec" && chmod 700 "$sec"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=zoomq-local-ca \
    -keyout "$sec/ca.key" -out "$sec/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=zoomq-broker \
    -keyout "$sec/broker.key" -out "$sec/broker.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > "$sec/ext.cnf"
  openssl x509 -req -in "$sec/broker.csr" -CA "$sec/ca.pem" -CAkey "$sec/ca.key" \
    -CAcreateserial -days 365 -extfile "$sec/ext.cnf" -out "$sec/broker.pem" 2>/dev/null
  echo "zq_$(openssl rand -hex 32)" > "$sec/admin.token"
  echo "zoomq:$(openssl rand -hex 24)" > "$sec/zk.auth"
  chmod 600 "$sec"/*.key "$sec/admin.token" "$sec/zk.auth"
}
