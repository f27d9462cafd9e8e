#!/usr/bin/env bash
# deploy.sh aws: provision one station in AWS IoT Core, with a policy that lets it report only as itself.
#
#   ./deploy.sh aws --thing NAME [--region R] [--policy-name P] [--out DIR] [--install-dir D]
#                   [--update-policy] [--endpoint-url URL] [--dry-run]
#
# With the aws CLI and your AWS credentials (aws configure, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY):
#   1. the thing NAME (reused if it exists); NAME is also the station id and the MQTT client id;
#   2. a new key pair and certificate, set active (reused if DIR already holds this thing's);
#   3. the policy P (default hedgerow-station, one for every station: it names no station, only
#      ${iot:Connection.Thing.ThingName}); reused if it exists with the same document, else refused,
#      or with --update-policy made its new default version;
#   4. the policy attached to the certificate, the certificate attached to the thing;
#   5. the ATS data endpoint (describe-endpoint --endpoint-type iot:Data-ATS).
# The policy (deploy/aws/station-policy.json) allows: connect with client id = the thing's name, only
# with a certificate attached to that thing; publish only to dt/<app>/<thing>/<type>; the retain flag
# only on dt/<app>/<thing>/status (the status and its last will). Nothing else: no subscribe, no receive.
#
# DIR (default ./aws-thing-NAME) gets, for deploy.sh sdcard --aws-thing-dir DIR and deploy.sh pi:
#   uplink.yaml          hedgerow.yaml's uplink section (profile iot-core, mqtts://ENDPOINT:8883,
#                        clientId NAME, tls paths under the install dir); station.id must be NAME
#   NAME.cert.pem        the station's certificate
#   NAME.private.key     its private key, mode 0600, never printed
#   AmazonRootCA1.pem    Amazon Root CA 1, from Debian's ca-certificates
#   aws-thing.json       thing, certificate and policy ARNs, region and endpoint (to reuse or revoke)
# Copy the files to the install dir (default /etc/hedgerow) on the Pi, key mode 0600, owned by the
# service user: deploy.sh sdcard and deploy.sh pi do that.
#
# Options:
#   --region R         else AWS_REGION, AWS_DEFAULT_REGION, or `aws configure get region`
#   --install-dir D    where the station reads the files; the paths in uplink.yaml (default /etc/hedgerow)
#   --update-policy    policy P exists with another document: make ours its default version
#   --endpoint-url URL send the aws calls to URL instead of AWS (a VPC endpoint, a test stand-in)
#   --dry-run          print each aws command (shell-quoted, pasteable), the policy and the files; call nothing
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=deploy/lib.sh
. "$src/deploy/lib.sh"

POLICY_TEMPLATE="$src/deploy/aws/station-policy.json"
AMAZON_ROOT_CA=/usr/share/ca-certificates/mozilla/Amazon_Root_CA_1.crt
CA_FILE=AmazonRootCA1.pem
RECORD_FILE=aws-thing.json

thing='' region='' policy_name=hedgerow-station out='' install_dir=/etc/hedgerow update_policy=0 endpoint_url=''
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die 2 "aws: $1 needs a value (see ./deploy.sh aws --help)"; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    --thing) need "$@"; thing="$2"; shift 2 ;;
    --region) need "$@"; region="$2"; shift 2 ;;
    --policy-name) need "$@"; policy_name="$2"; shift 2 ;;
    --out) need "$@"; out="$2"; shift 2 ;;
    --install-dir) need "$@"; install_dir="$2"; shift 2 ;;
    --update-policy) update_policy=1; shift ;;
    --endpoint-url) need "$@"; endpoint_url="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage "$0"; exit 0 ;;
    *) die 2 "aws: unknown option $1 (see ./deploy.sh aws --help)" ;;
  esac
done

[ -n "$thing" ] || die 2 "aws: say which thing: --thing NAME (the station id, e.g. --thing north-field)"
# The thing name is the station id and a topic level: the station id rule, which IoT Core's own allows.
[[ "$thing" =~ $STATION_ID_RE ]] || die 2 "aws: --thing must be 1-64 letters, digits, '-' or '_' (it is the station id and an MQTT topic level), not '$thing'"
[[ "$policy_name" =~ ^[A-Za-z0-9+=,.@_-]{1,128}$ ]] || die 2 "aws: --policy-name may use letters, digits and +=,.@_- (1-128), not '$policy_name'"
[[ "$install_dir" = /* ]] || die 2 "aws: --install-dir must be an absolute path on the Pi, such as /etc/hedgerow, not '$install_dir'"
out="${out:-./aws-thing-$thing}"
[ -r "$AMAZON_ROOT_CA" ] || die 1 "aws: $AMAZON_ROOT_CA is missing: install Debian's CA bundle (sudo apt-get install ca-certificates)"
command -v aws >/dev/null || die 1 "aws: the aws CLI is not installed: sudo apt-get install awscli, then aws configure"

if [ -z "$region" ]; then region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"; fi
if [ -z "$region" ]; then region="$(aws configure get region 2>/dev/null || true)"; fi
[ -n "$region" ] || die 2 "aws: no AWS region: pass --region eu-west-1 (or set AWS_REGION, or run aws configure set region eu-west-1)"
[[ "$region" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die 2 "aws: --region must look like eu-west-1, not '$region'"

# The key and the aws output that carries it are written by this user only.
umask 077

awscli=(aws)
if [ -n "$endpoint_url" ]; then awscli+=(--endpoint-url "$endpoint_url"); fi
awscli+=(--region "$region" --output json iot)

# iot SUBCOMMAND ARGS...: one aws iot call. Its JSON goes to stdout; a failure ends the script with aws's
# own reason and what to do, except ResourceNotFoundException, which returns 3 for the caller to decide.
iot() {
  local err rc=0 output
  err=$(mktemp)
  output=$("${awscli[@]}" "$@" 2>"$err") || rc=$?
  if [ "$rc" = 0 ]; then rm -f "$err"; printf '%s' "$output"; return 0; fi
  local reason; reason=$(grep -v '^[[:space:]]*$' "$err" | tail -n 1 || true); rm -f "$err"
  local action; action=$(sed -E 's/(^|-)([a-z])/\U\2/g' <<<"$1")
  case "$reason" in
    *ResourceNotFoundException*) return 3 ;;
    *'Unable to locate credentials'*|*UnrecognizedClientException*|*InvalidClientTokenId*|*'security token'*)
      die 1 "aws: no valid AWS credentials ($reason): run aws configure, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)" ;;
    *AccessDenied*|*'not authorized'*)
      die 1 "aws: your AWS user may not call iot $1 ($reason): ask your AWS admin for the iot:$action permission" ;;
    *) die 1 "aws: 'aws iot $1' failed: ${reason:-exit $rc}" ;;
  esac
}

# field FILE|- PATH: one value from a JSON document (python3 is there wherever the aws CLI is).
field() { python3 -c 'import json,sys
try:
    v=json.load(open(sys.argv[1]) if sys.argv[1]!="-" else sys.stdin)
    for k in sys.argv[2].split("."): v=v[k]
except (ValueError, KeyError, TypeError, OSError) as e:
    sys.exit("deploy.sh: aws: expected %s in the answer of aws (%s): is --endpoint-url an AWS IoT endpoint?" % (sys.argv[2], e))
print(v)' "$1" "$2"; }
# Same JSON, whatever the whitespace and key order: how two policy documents are compared.
canonical() { python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read()), sort_keys=True, separators=(",", ":")))'; }

policy_for() { # PARTITION ACCOUNT
  sed -e "s/@PARTITION@/$1/g" -e "s/@REGION@/$region/g" -e "s/@ACCOUNT@/$2/g" "$POLICY_TEMPLATE"
}

uplink_yaml() { # ENDPOINT
  cat <<EOF
# hedgerow.yaml's uplink section for the AWS IoT Core thing $thing ($region), written by deploy.sh aws.
# station.id must be $thing: its policy lets it connect only as $thing and publish only under dt/<app>/$thing/.
uplink:
  url: mqtts://$1:8883
  clientId: $thing
  profile: iot-core
  tls:
    ca: $install_dir/$CA_FILE
    cert: $install_dir/$thing.cert.pem
    key: $install_dir/$thing.private.key
EOF
}

cert_file="$out/$thing.cert.pem"
key_file="$out/$thing.private.key"

# show ARGS...: a command as one pasteable line; single quotes keep the policy JSON readable.
show() {
  local arg line='+'
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then line+=" $arg"; else line+=" '${arg//\'/\'\\\'\'}'"; fi
  done
  printf '%s\n' "$line"
}

if dry; then
  say "dry run: the aws calls of a first run, in order; nothing is called or written"
  show "${awscli[@]}" describe-thing --thing-name "$thing"
  show "${awscli[@]}" create-thing --thing-name "$thing"
  echo "$(show "${awscli[@]}" create-keys-and-certificate --set-as-active) > $out/.keys.XXXXXX   # mode 0600; split into the cert and key, never printed"
  show "${awscli[@]}" get-policy --policy-name "$policy_name"
  say "the policy document (a real run takes the partition and the account, ACCOUNT_ID here, from the thing's ARN):"
  policy_for aws ACCOUNT_ID
  show "${awscli[@]}" create-policy --policy-name "$policy_name" --policy-document "$(policy_for aws ACCOUNT_ID | canonical)"
  show "${awscli[@]}" attach-policy --policy-name "$policy_name" --target CERTIFICATE_ARN
  show "${awscli[@]}" attach-thing-principal --thing-name "$thing" --principal CERTIFICATE_ARN
  show "${awscli[@]}" describe-endpoint --endpoint-type iot:Data-ATS
  echo "+ write $cert_file (mode 0644) and $key_file (mode 0600)"
  echo "+ copy $AMAZON_ROOT_CA to $out/$CA_FILE (mode 0644)"
  uplink_yaml ENDPOINT | write_file "$out/uplink.yaml" 0644
  echo "+ write $out/$RECORD_FILE (mode 0644): thing, certificate and policy ARNs, region, endpoint"
  exit 0
fi

# 1. The thing.
if thing_json=$(iot describe-thing --thing-name "$thing"); then
  say "thing $thing exists: reusing it"
else
  rc=$?; [ "$rc" = 3 ] || exit "$rc"
  thing_json=$(iot create-thing --thing-name "$thing")
  say "thing $thing created"
fi
thing_arn=$(field - thingArn <<<"$thing_json")
# arn:PARTITION:iot:REGION:ACCOUNT:thing/NAME
IFS=: read -r _ partition _ _ account _ <<<"$thing_arn"
[[ "$account" =~ ^[0-9]{12}$ ]] || die 1 "aws: the thing's ARN '$thing_arn' names no account: is --endpoint-url an IoT endpoint?"

# 2. The certificate: the one DIR already holds for this thing, or a new one.
mkdir -p "$out"
record="$out/$RECORD_FILE"
cert_arn='' endpoint=''
# Written as soon as the certificate exists, so a run that fails later leaves it for the next run to reuse.
write_record() {
  python3 -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2])), indent=2))' \
    thingName "$thing" thingArn "$thing_arn" certificateId "$cert_id" certificateArn "$cert_arn" \
    policyName "$policy_name" region "$region" endpoint "$endpoint" | write_file "$record" 0644
}
if [ -f "$record" ] && [ -f "$cert_file" ] && [ -f "$key_file" ] && [ "$(field "$record" thingName)" = "$thing" ]; then
  made_in=$(field "$record" region)
  [ "$made_in" = "$region" ] || die 1 "aws: $out holds a certificate of $made_in, and things and certificates are per region: run with --region $made_in, or pick another --out for $region"
  cert_id=$(field "$record" certificateId)
  described=$(iot describe-certificate --certificate-id "$cert_id") || {
    [ $? = 3 ] || exit 1
    die 1 "aws: $out holds certificate $cert_id, which AWS IoT no longer has: move $out aside and run again for a new one"
  }
  status=$(field - certificateDescription.status <<<"$described")
  [ "$status" = ACTIVE ] || die 1 "aws: certificate $cert_id in $out is $status, not ACTIVE: activate it (aws iot update-certificate --certificate-id $cert_id --new-status ACTIVE) or move $out aside for a new one"
  cert_arn=$(field - certificateDescription.certificateArn <<<"$described")
  say "certificate $cert_id in $out: reusing it"
fi
if [ -z "$cert_arn" ]; then
  # Straight into a 0600 file: the private key never passes through a terminal or a variable.
  keys=$(mktemp "$out/.keys.XXXXXX")
  trap 'rm -f "$keys"' EXIT
  iot create-keys-and-certificate --set-as-active > "$keys"
  field "$keys" certificatePem | write_file "$cert_file" 0644
  field "$keys" keyPair.PrivateKey | write_file "$key_file" 0600
  cert_arn=$(field "$keys" certificateArn)
  cert_id=$(field "$keys" certificateId)
  rm -f "$keys"
  write_record
  say "certificate $cert_id created and active; key in $key_file (mode 0600)"
fi

# 3. The policy.
policy=$(policy_for "$partition" "$account" | canonical)
if existing=$(iot get-policy --policy-name "$policy_name"); then
  if [ "$(field - policyDocument <<<"$existing" | canonical)" = "$policy" ]; then
    say "policy $policy_name exists with the same document: reusing it"
  elif [ "$update_policy" = 1 ]; then
    iot create-policy-version --policy-name "$policy_name" --policy-document "$policy" --set-as-default >/dev/null
    say "policy $policy_name had another document: ours is now its default version"
  else
    die 1 "aws: policy $policy_name exists with another document (not Hedgerow's least-privilege one, or an older one): run again with --update-policy to make ours its default version, or pick another name with --policy-name"
  fi
else
  rc=$?; [ "$rc" = 3 ] || exit "$rc"
  iot create-policy --policy-name "$policy_name" --policy-document "$policy" >/dev/null
  say "policy $policy_name created"
fi

# 4. Attached (both calls succeed again on what is already attached).
iot attach-policy --policy-name "$policy_name" --target "$cert_arn" >/dev/null
iot attach-thing-principal --thing-name "$thing" --principal "$cert_arn" >/dev/null
say "policy $policy_name attached to the certificate, the certificate to thing $thing"

# 5. The endpoint, and the station's files.
endpoint_json=$(iot describe-endpoint --endpoint-type iot:Data-ATS)
endpoint=$(field - endpointAddress <<<"$endpoint_json")
write_file "$out/$CA_FILE" 0644 < "$AMAZON_ROOT_CA"
uplink_yaml "$endpoint" | write_file "$out/uplink.yaml" 0644
write_record
say "wrote $out: uplink.yaml, $thing.cert.pem, $thing.private.key, $CA_FILE, $RECORD_FILE"
say "next: ./deploy.sh sdcard BOOT_MOUNT --station-id $thing --aws-thing-dir $out (or deploy.sh pi ... --aws-thing-dir $out)"
