#!/usr/bin/env bash
# seed-demo.sh BUILD SERVER_URL KEYS_DIR ROOT_KEY_FILE - record a realistic
# demo with build/trace-agent (nothing else needed: bash, curl):
#
#   lot SWS2611A of Sulwhasoo Essential Emulsion (GTIN 08801234567893): a
#     Korean cosmetic registered by the brand, sampled and inspected before
#     shipment by CCIC Korea's Incheon laboratory, shipped Incheon (KRINC) to
#     Weihai (CNWEI), declared to customs under 1210 (bonded cross-border
#     e-commerce), released, received in a Weihai bonded warehouse;
#   lot GTS2609B of a green tea serum (GTIN 08809876543213): the same route,
#     then recalled (severity 1) by the importer.
#
# Demo orgs (SPEC 8 "Organisations": their names in Chinese and English, the
# roles their keys may have, the brand's GS1 prefix 880) are registered by
# the root admin key; demo keys (brand, inspector, carrier, importer,
# customs, warehouse) are made in KEYS_DIR if absent and enrolled into their
# org by the root.  Safe to rerun: registered orgs, enrolled keys and
# recorded lots are left alone.  Prints what to open.
set -euo pipefail
build=${1:?usage: seed-demo.sh BUILD SERVER_URL KEYS_DIR ROOT_KEY_FILE}
server=${2:?server URL}
keys=${3:?keys dir}
root_key=${4:?root key file}
agent="$build/trace-agent"
queue=$(dirname "$keys")/queue
export TRACE_SERVER=$server TRACE_QUEUE=$queue
mkdir -p "$keys" "$queue"

# org ID NAME_ZH NAME_EN ROLE [PREFIX]: register once.
org() {
	local id=$1 zh=$2 en=$3 role=$4 prefix=${5:-}
	if curl -fsS "$server/api/v1/keys" 2>/dev/null |
	    grep -q "\"op\":\"org\",\"org\":\"$id\""; then
		return 0
	fi
	"$agent" key org --admin "$root_key" --org "$id" --name-zh "$zh" \
		--name-en "$en" --role "$role" ${prefix:+--gtin-prefix "$prefix"} >/dev/null
}

org amorepacific "爱茉莉太平洋" "Amorepacific Corporation"            brand 880
org ccic-korea   "中检韩国（仁川实验室）" "CCIC Korea (Incheon laboratory)" inspector
org weidong      "威东航运" "Weidong Ferry Co., Ltd."                    logistics
org haiyue       "威海海悦跨境贸易" "Weihai Haiyue Cross-border Trade Co." importer
org weihai-customs "威海海关" "Weihai Customs"                          customs
org weihai-bonded "威海综合保税区物流" "Weihai Comprehensive Bonded Zone Logistics" warehouse

# key NAME ROLE ORG PERSON [PREFIX]: generate once, enroll once.
key() {
	local name=$1 role=$2 org=$3 person=$4 prefix=${5:-}
	local keyid
	[ -f "$keys/$name.key" ] || "$agent" key gen --name "$name" --out "$keys" >/dev/null
	keyid=$(sed -n 's/.*"keyid": *"\([0-9a-f]*\)".*/\1/p' "$keys/$name.pub")
	if curl -fsS -o /dev/null "$server/api/v1/keys/$keyid" 2>/dev/null; then
		return 0
	fi
	"$agent" key enroll --admin "$root_key" --pub "$keys/$name.pub" \
		--role "$role" --org "$org" --name "$person" \
		${prefix:+--gtin-prefix "$prefix"} >/dev/null
}

key brand     brand     amorepacific   "Lee Jiwon"  880
key inspector inspector ccic-korea     "Kim Minsu"
key carrier   logistics weidong        "Park Seojun"
key importer  importer  haiyue         "Wang Lei"
key customs   customs   weihai-customs "Zhao Min"
key warehouse warehouse weihai-bonded  "Liu Yang"

# when DAYS_AGO HH:MM OFFSET: an RFC 3339 time DAYS_AGO days back, at local
# time HH:MM in OFFSET (so the demo is always in the recent past).
when() {
	local day
	day=$(date -u -d "-$1 days" +%Y-%m-%d)
	echo "${day}T$2:00$3"
}

# rec KEY TYPE GTIN LOT TIME COUNTRY PLACE [OPTION...]  (data JSON on
# standard input; options such as --attach FILE:NAME go to record)
rec() {
	"$agent" record --key "$keys/$1.key" --type "$2" --gtin "$3" --lot "$4" \
		--time "$5" --country "$6" --place "$7" --data - "${@:8}" >/dev/null
}

# report CERT: a one-page PDF inspection report for the demo (the signed
# report an inspector attaches); prints its path.
report() {
	local f
	f=$(dirname "$keys")/reports/$1.pdf
	mkdir -p "$(dirname "$f")"
	[ -f "$f" ] || printf '%s\n' '%PDF-1.4' \
		'1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj' \
		'2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj' \
		'3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj' \
		"4 0 obj << >> stream" \
		"BT /F1 18 Tf 60 760 Td (CCIC Korea - pre-shipment inspection report $1) Tj ET" \
		"BT /F1 12 Tf 60 730 Td (Result: PASS. Demo document of the Trace demo.) Tj ET" \
		'endstream endobj' \
		'5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj' \
		'trailer << /Root 1 0 R >>' '%%EOF' > "$f"
	echo "$f"
}

exists() {
	curl -fsS -o /dev/null "$server/api/v1/chains/01/$1/10/$2" 2>/dev/null
}

# lot GTIN LOT NAME_JSON BRAND SPEC EXPIRY CERT DECLARATION DAYS: the route
# every demo lot takes, DAYS before today.
lot() {
	local gtin=$1 lot=$2 name=$3 brand=$4 spec=$5 expiry=$6 cert=$7 decl=$8 d=$9
	rec brand product.registered "$gtin" "$lot" "$(when $((d + 2)) 09:00 +09:00)" KR \
		"Amorepacific Osan plant" <<JSON
{"name": $name, "brand": "$brand", "origin": "KR",
 "manufacturer": "Amorepacific Corporation, Osan plant", "spec": "$spec",
 "expiry": "$expiry", "quantity": 1200}
JSON
	rec inspector inspection.sampled "$gtin" "$lot" "$(when $((d + 1)) 10:30 +09:00)" KR \
		"CCIC Korea Incheon laboratory" <<JSON
{"samples": 6, "sampleIds": ["$cert-S1", "$cert-S2", "$cert-S3"]}
JSON
	rec inspector inspection.completed "$gtin" "$lot" "$(when $((d + 1)) 17:00 +09:00)" KR \
		"CCIC Korea Incheon laboratory" \
		--attach "$(report "$cert"):Inspection report $cert.pdf" <<JSON
{"certificate": "$cert", "result": "pass", "body": "CCIC Korea Incheon laboratory",
 "standard": "化妆品安全技术规范 (2015) / Safety and Technical Standards for Cosmetics",
 "items": [{"name": "Lead (Pb)", "value": "0.6 mg/kg", "limit": "10 mg/kg", "result": "pass"},
           {"name": "Mercury (Hg)", "value": "< 0.01 mg/kg", "limit": "1 mg/kg", "result": "pass"},
           {"name": "Total aerobic count", "value": "< 10 CFU/g", "limit": "1000 CFU/g", "result": "pass"},
           {"name": "Label (Chinese)", "value": "complete", "result": "pass"}]}
JSON
	rec carrier shipment.departed "$gtin" "$lot" "$(when "$d" 18:00 +09:00)" KR \
		"Incheon International Ferry Terminal" <<JSON
{"carrier": "Weidong Ferry", "vessel": "New Golden Bridge V",
 "billOfLading": "WDF${lot}01", "port": "KRINC"}
JSON
	rec carrier shipment.arrived "$gtin" "$lot" "$(when $((d - 1)) 09:30 +08:00)" CN \
		"Weihai Port" <<JSON
{"carrier": "Weidong Ferry", "vessel": "New Golden Bridge V",
 "billOfLading": "WDF${lot}01", "port": "CNWEI"}
JSON
	rec importer customs.declared "$gtin" "$lot" "$(when $((d - 1)) 11:00 +08:00)" CN \
		"Weihai Comprehensive Bonded Zone" <<JSON
{"declaration": "$decl", "mode": "1210"}
JSON
	rec customs customs.released "$gtin" "$lot" "$(when $((d - 1)) 15:20 +08:00)" CN \
		"Weihai Customs, Comprehensive Bonded Zone office" <<JSON
{"declaration": "$decl"}
JSON
	rec warehouse warehouse.received "$gtin" "$lot" "$(when $((d - 2)) 08:40 +08:00)" CN \
		"Weihai Comprehensive Bonded Zone" <<JSON
{"warehouse": "Weihai Comprehensive Bonded Zone, Warehouse 3", "location": "A-03-12",
 "quantity": 1200}
JSON
}

gtin1=08801234567893 lot1=SWS2611A
gtin2=08809876543213 lot2=GTS2609B

if ! exists "$gtin1" "$lot1"; then
	lot "$gtin1" "$lot1" \
		'{"zh": "雪花秀滋阴乳液", "en": "Sulwhasoo Essential Comfort Balancing Emulsion", "ko": "설화수 자음유액"}' \
		"Sulwhasoo 雪花秀" "125 ml" "2029-10-31" "CCIC-KR-2026-00123" \
		"421920261000123456" 12
	# SPEC 12: the brand declares the lot's serials and gives units
	# 000001-000200 scratch-off codes; the codes file stays in the keys
	# folder (in real use: with the label printer, never on the server).
	"$agent" record --key "$keys/brand.key" --type serials.issued --gtin "$gtin1" \
		--lot "$lot1" --set 'ranges=[["000001","001200"]]' >/dev/null
	codes=$keys/codes-$lot1.csv
	[ -f "$codes" ] || "$agent" codes gen --gtin "$gtin1" --lot "$lot1" \
		--serials 000001-000200 --out "$codes" >/dev/null 2>&1
	"$agent" --server "$server" codes upload --key "$keys/brand.key" \
		--gtin "$gtin1" --lot "$lot1" "$codes" >/dev/null 2>&1 || true
fi
code123=$(grep -s ',"000123",' "$keys/codes-$lot1.csv" | cut -d, -f4)
# Every demo time lies within the server's --max-age (30 days by default,
# 422 stale_time beyond it): the oldest is lot 2's registration, 22 days
# back.  tests/integration/test_demo.py runs this seed.
if ! exists "$gtin2" "$lot2"; then
	lot "$gtin2" "$lot2" \
		'{"zh": "绿茶籽精华液", "en": "Green Tea Seed Serum", "ko": "그린티 씨드 세럼"}' \
		"innisfree 悦诗风吟" "80 ml" "2028-08-31" "CCIC-KR-2026-00098" \
		"421920261000098765" 20
	rec importer recall.issued "$gtin2" "$lot2" "$(date -u -d '-1 hours' +%Y-%m-%dT%H:%M:%SZ)" CN \
		"Weihai" <<'JSON'
{"reason": "Retained samples exceed the microbial limit (total aerobic count) / 留样菌落总数超标",
 "severity": 1,
 "action": "立即停止使用，凭订单到购买平台全额退款。Stop using it now and return it to the store where you bought it for a full refund.",
 "contact": "400-820-1234 · recall@haiyue.example"}
JSON
fi

cat <<MSG

Demo data (seeded with $agent):
  consumer page   $server/01/$gtin1/10/$lot1/21/000123
                  $server/01/$gtin1/10/$lot1/21/000123?lang=en   (?lang=ko)
  scratch-off     enter ${code123:-(see $keys/codes-$lot1.csv)} on the page of 000123
                  (the first entry: genuine; later ones: "first verified on")
  invented serial $server/01/$gtin1/10/$lot1/21/009999   ("never issued")
  recalled lot    $server/01/$gtin2/10/$lot2/21/000042
  inspector page  $server/inspect/01/$gtin1/10/$lot1
  QR code         $server/qr/01/$gtin1/10/$lot1/21/000123.svg
  labels (A4)     $server/labels/01/$gtin1/10/$lot1?from=000001&count=21
  JSON            curl -H 'Accept: application/json' $server/01/$gtin1/10/$lot1
  linkset         $server/01/$gtin1/10/$lot1?linkType=all
MSG
