#!/usr/bin/env bash
# Creates or updates the alarms of ops/cloudwatch/alarms.json with the AWS CLI.
# Usage: SNS_TOPIC_ARN=arn:aws:sns:…:leadsmart-ops ops/cloudwatch/apply-alarms.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
topic=${SNS_TOPIC_ARN:?set SNS_TOPIC_ARN to the SNS topic that pages the operator}
count=$(node -e 'console.log(require(process.argv[1]).length)' "$here/alarms.json")
for i in $(seq 0 $((count - 1))); do
  node -e '
    const a = require(process.argv[1])[Number(process.argv[2])];
    console.log(JSON.stringify({ ...a, AlarmActions: [process.argv[3]], OKActions: [process.argv[3]] }));
  ' "$here/alarms.json" "$i" "$topic" > /tmp/leadsmart-alarm.json
  aws cloudwatch put-metric-alarm --cli-input-json file:///tmp/leadsmart-alarm.json
  name=$(node -e 'console.log(require(process.argv[1])[Number(process.argv[2])].AlarmName)' "$here/alarms.json" "$i")
  echo "applied $name"
done
rm -f /tmp/leadsmart-alarm.json
