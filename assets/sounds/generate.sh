#!/usr/bin/env bash
# generate.sh writes the voice clips the in-car alerts say (assets/sounds/*.wav)
# with Debian's espeak-ng (British English voice) and sox (mono, 16 kHz,
# 16-bit, silence trimmed, peak at -3 dBFS). The clips are committed; run this
# only to change them: `bash assets/sounds/generate.sh` (needs espeak-ng, sox:
# `make train-deps`). The tones are synthesised in Go (app/audio), not here.
#
# Each line of the table below is `name|words`: name is the clip name the
# alert policy uses (app/alert.go), words what espeak-ng says.
set -euo pipefail
cd "$(dirname "$0")"
command -v espeak-ng >/dev/null || { echo "generate.sh: espeak-ng is needed (apt-get install espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "generate.sh: sox is needed (apt-get install sox)" >&2; exit 1; }

VOICE=${VOICE:-en-gb}
SPEED=${SPEED:-165} # words per minute: clear at road noise, not slow

clips() {
	# NATO phonetic alphabet
	for w in alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike \
		november oscar papa quebec romeo sierra tango uniform victor whiskey yankee zulu; do
		echo "$w|$w"
	done
	echo "x-ray|x-ray"
	# digits and counts
	n=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen \
		fifteen sixteen seventeen eighteen nineteen twenty)
	for w in "${n[@]}"; do echo "$w|$w"; done
	cat <<'TABLE'
many|many
hit|Hit.
past-hit|Past hit.
hits|hits
waiting|waiting.
camera|Camera
gps|G P S
link|Link
lost|lost.
restored|restored.
stolen-vehicle|Stolen vehicle.
no-insurance|No insurance.
firearms-marker|Firearms marker.
disqualified-driver|Disqualified driver.
missing-person|Missing person.
drugs|Drugs.
no-tax|No tax.
no-mot|No M O T.
wanted|Wanted.
intelligence|Intelligence.
vehicle-of-interest|Vehicle of interest.
TABLE
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f ./*.wav
count=0
while IFS='|' read -r name words; do
	espeak-ng -v "$VOICE" -s "$SPEED" -w "$tmp/raw.wav" "$words"
	# mono 16 kHz 16-bit; trim leading and trailing silence; peak -3 dBFS
	sox -R "$tmp/raw.wav" -r 16000 -c 1 -b 16 -D "$name.wav" \
		silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse norm -3
	count=$((count + 1))
done < <(clips)
echo "generate.sh: $count clips, $(du -ch ./*.wav | tail -1 | cut -f1) in assets/sounds"
