#!/usr/bin/env bash
# Builds the PostgreSQL images the engine tests run, without any image registry,
# and imports each of them into Docker and Podman under the same name:
#
#   localhost/packit-db-test/postgres:15           host PostgreSQL 15 + busybox,
#                                                  official-image contract
#   localhost/packit-db-test/postgres:17           Debian trixie (debootstrap) with
#                                                  postgresql-17, official contract
#   localhost/packit-db-test/sclorg-postgresql:15  host PostgreSQL 15 + busybox,
#                                                  Software Collections contract
#
# Entrypoints: images/official/docker-entrypoint.sh, images/sclorg/docker-entrypoint.sh.
# Every image carries the label io.github.packit-db.test-image-version (a hash of
# this script, the entrypoints and, for the PostgreSQL 15 images, the host's
# postgresql-15 package version); an image whose label already matches is not
# built again. The debootstrapped Debian root filesystem is cached as a tarball
# under /var/cache/packit-db-test/ so re-runs never debootstrap again.
#
# Usage: build-test-images.sh [--check]
#   As root: builds what is missing or outdated (engines: PACKIT_TEST_ENGINES,
#   default docker,podman; they must answer: run scripts/setup-engines.sh first).
#   --check, or as an ordinary user: builds nothing; checks that the images the
#   tests use (PACKIT_TEST_IMAGE_15/_17/_SCLORG, default the names above) exist
#   in the engines at PACKIT_TEST_DOCKER_HOST / PACKIT_TEST_PODMAN_HOST.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
readonly SCRIPT_DIR REPO_ROOT

readonly IMAGE_PG15=localhost/packit-db-test/postgres:15
readonly IMAGE_PG17=localhost/packit-db-test/postgres:17
readonly IMAGE_SCLORG=localhost/packit-db-test/sclorg-postgresql:15
readonly VERSION_LABEL=io.github.packit-db.test-image-version
readonly OFFICIAL_ENTRYPOINT=$REPO_ROOT/images/official/docker-entrypoint.sh
readonly SCLORG_ENTRYPOINT=$REPO_ROOT/images/sclorg/docker-entrypoint.sh
readonly CACHE_DIR=/var/cache/packit-db-test
readonly PG17_SUITE=trixie
readonly PG17_PACKAGES=postgresql-17,tzdata,locales
readonly PG17_CACHE=$CACHE_DIR/debian-$PG17_SUITE-minbase-postgresql-17.tar
readonly HOST_PG15=/usr/lib/postgresql/15
readonly OFFICIAL_UID=999
readonly SCLORG_UID=26
# Busybox applets linked into the PostgreSQL 15 images: what the entrypoints use,
# plus the usual tools one expects in a shell inside a container.
readonly BUSYBOX_APPLETS=(
	sh ash su id mkdir chown chmod rm cat echo sleep printf test '[' '[[' env ls
	mktemp ln cp mv touch head tail grep egrep fgrep sed awk find xargs sort uniq
	tr cut wc dirname basename readlink realpath stat true false chgrp ps kill
	pidof uname whoami hostname date du df tar gzip gunzip zcat less more vi
	nproc which tee expr seq timeout usleep getopt hexdump od md5sum sha256sum
	nologin
)

LOG_NAME=build-test-images
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/lib.sh"

# engine_selected NAME: true when NAME is listed in PACKIT_TEST_ENGINES.
engine_selected() {
	local list=",${PACKIT_TEST_ENGINES-docker,podman},"
	list=${list// /}
	[[ $list == *",$1,"* ]]
}

selected_engines() {
	local engine
	for engine in docker podman; do
		if engine_selected "$engine"; then
			printf '%s\n' "$engine"
		fi
	done
}

docker_url() { printf '%s\n' "${PACKIT_TEST_DOCKER_HOST:-unix:///var/run/docker.sock}"; }
podman_url() {
	if [[ -n ${PACKIT_TEST_PODMAN_HOST:-} ]]; then
		printf '%s\n' "$PACKIT_TEST_PODMAN_HOST"
	elif ((EUID != 0)) && [[ -n ${XDG_RUNTIME_DIR:-} && -S $XDG_RUNTIME_DIR/podman/podman.sock ]]; then
		printf '%s\n' "unix://$XDG_RUNTIME_DIR/podman/podman.sock"
	else
		printf '%s\n' "unix:///run/podman/podman.sock"
	fi
}

# engine ENGINE ARGS: runs the engine's CLI (docker against PACKIT_TEST_DOCKER_HOST;
# podman locally, which as root is the storage the API service uses).
engine() {
	local name=$1
	shift
	case $name in
	docker) docker -H "$(docker_url)" "$@" ;;
	podman) podman "$@" ;;
	*) die "unknown engine $name" ;;
	esac
}

# ---------------------------------------------------------------- versions --

# content_version EXTRA...: the label value for an image: the first 12 hex digits
# of the sha256 of this script, both entrypoints and EXTRA.
content_version() {
	{
		cat "${BASH_SOURCE[0]}" "$OFFICIAL_ENTRYPOINT" "$SCLORG_ENTRYPOINT"
		printf '%s\n' "$@"
	} | sha256sum | cut -c1-12
}

host_pg15_version() {
	dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || echo unknown
}

# image_label ENGINE IMAGE: the image's version label, empty when it has none or
# does not exist.
image_label() {
	case $1 in
	docker) engine docker image inspect -f "{{ index .Config.Labels \"$VERSION_LABEL\" }}" "$2" 2>/dev/null || true ;;
	podman) engine podman image inspect --format "{{ index .Config.Labels \"$VERSION_LABEL\" }}" "$2" 2>/dev/null || true ;;
	esac
}

image_id() {
	engine "$1" image inspect --format '{{.Id}}' "$2" 2>/dev/null || true
}

# image_up_to_date ENGINE IMAGE VERSION
image_up_to_date() {
	[[ $(image_label "$1" "$2") == "$3" ]]
}

# engines_needing IMAGE VERSION: prints the selected engines lacking the image
# at that version.
engines_needing() {
	local image=$1 version=$2 engine
	for engine in $(selected_engines); do
		if image_up_to_date "$engine" "$image" "$version"; then
			log "$image is up to date in $engine (version $version)"
		else
			printf '%s\n' "$engine"
		fi
	done
}

# ----------------------------------------------------------------- imports --

# import_rootfs ENGINE IMAGE VERSION ROOTFS STOPSIGNAL CHANGE...: imports the
# directory ROOTFS as IMAGE with the given Dockerfile changes plus the version
# label and the stop signal, and removes the image it replaces.
import_rootfs() {
	local engine=$1 image=$2 version=$3 rootfs=$4 stopsignal=$5
	shift 5
	local changes=(-c "LABEL $VERSION_LABEL=$version") change old_id new_id start
	for change in "$@"; do
		changes+=(-c "$change")
	done
	old_id=$(image_id "$engine" "$image")
	start=$(now)
	case $engine in
	podman)
		tar --numeric-owner -C "$rootfs" -cf - . |
			engine podman import --quiet "${changes[@]}" -c "STOPSIGNAL $stopsignal" - "$image" >/dev/null
		;;
	docker)
		# docker import does not accept STOPSIGNAL: import under a temporary tag,
		# then set it with a metadata-only build (legacy builder: no network).
		tar --numeric-owner -C "$rootfs" -cf - . |
			engine docker import "${changes[@]}" - "$image-import" >/dev/null
		printf 'FROM %s\nSTOPSIGNAL %s\n' "$image-import" "$stopsignal" |
			DOCKER_BUILDKIT=0 engine docker build -q -t "$image" - >/dev/null 2>&1 ||
			die "docker build (STOPSIGNAL) of $image failed"
		engine docker rmi "$image-import" >/dev/null
		;;
	esac
	image_up_to_date "$engine" "$image" "$version" || die "$image in $engine does not carry version $version after the import"
	new_id=$(image_id "$engine" "$image")
	if [[ -n $old_id && $old_id != "$new_id" ]]; then
		engine "$engine" rmi "$old_id" >/dev/null 2>&1 || log "note: could not remove the replaced image $old_id from $engine (still in use?)"
	fi
	log "imported $image into $engine in $(elapsed "$start") (version $version)"
}

# -------------------------------------------------------------- build dirs --

WORK_DIR=

# unmount_below DIR: unmounts whatever is mounted on or below DIR (debootstrap
# mounts /proc, /sys, ... in its target and may leave them after a failure).
unmount_below() {
	local dir mount
	dir=$(realpath "$1")
	while read -r mount; do
		[[ -n $mount ]] || continue
		umount -l "$mount" 2>/dev/null || log "warning: could not unmount $mount"
	done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

# remove_tree DIR: removes a build directory without crossing into other filesystems.
remove_tree() {
	local dir=$1
	[[ -n $dir && -d $dir ]] || return 0
	unmount_below "$dir"
	rm -rf --one-file-system "$dir"
}

cleanup() {
	if [[ -n $WORK_DIR ]]; then
		remove_tree "$WORK_DIR"
	fi
}

# work_dir: the build directory of this run (created in main, removed on exit).
work_dir() {
	[[ -n $WORK_DIR ]] || die "internal error: no build directory"
	printf '%s\n' "$WORK_DIR"
}

# ------------------------------------------------ host PostgreSQL 15 rootfs --

# libraries_of FILE...: the absolute paths of the shared libraries (and the dynamic
# loader) that ldd lists for the files; fails if one is not found.
libraries_of() {
	local file out
	for file in "$@"; do
		out=$(ldd "$file" 2>/dev/null) || continue # not a dynamic ELF file
		if grep -q 'not found' <<<"$out"; then
			die "ldd $file: $(grep 'not found' <<<"$out" | head -n 3 | tr '\n' ' ')"
		fi
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
	done | sort -u
}

# copy_library ROOTFS PATH: copies the library (following symlinks) into ROOTFS at
# its canonical directory and the name the binaries ask for.
copy_library() {
	local rootfs=$1 lib=$2 dir
	dir=$(realpath "$(dirname "$lib")")
	mkdir -p "$rootfs$dir"
	cp -L "$lib" "$rootfs$dir/$(basename "$lib")"
}

# assemble_host_pg15_base ROOTFS: the part shared by both PostgreSQL 15 images:
# PostgreSQL 15 from the host, its libraries, locale C.utf8, time zones, busybox.
assemble_host_pg15_base() {
	local rootfs=$1 lib applet files=()
	[[ -x $HOST_PG15/bin/postgres ]] || die "$HOST_PG15/bin/postgres not found: install postgresql-15 (scripts/setup-engines.sh)"
	[[ -x /bin/busybox ]] || die "/bin/busybox not found: install busybox-static (scripts/setup-engines.sh)"
	if ldd /bin/busybox >/dev/null 2>&1; then
		die "/bin/busybox is not statically linked: install busybox-static"
	fi

	# Merged-/usr layout like Debian's.
	mkdir -p "$rootfs"/{usr/bin,usr/lib,usr/lib64,usr/local/bin,usr/share,etc,root,tmp,var/tmp,run}
	ln -s usr/bin "$rootfs/bin"
	ln -s usr/bin "$rootfs/sbin"
	ln -s usr/lib "$rootfs/lib"
	ln -s usr/lib64 "$rootfs/lib64"
	ln -s ../run "$rootfs/var/run"
	chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
	chmod 700 "$rootfs/root"

	local tree
	for tree in "$HOST_PG15" /usr/share/postgresql/15 /usr/lib/locale/C.utf8 /usr/share/zoneinfo; do
		# (not cp --parents: coreutils 9.1 fails on it with -a)
		mkdir -p "$rootfs$(dirname "$tree")"
		cp -a "$tree" "$rootfs$tree"
	done
	ln -s /usr/share/zoneinfo/Etc/UTC "$rootfs/etc/localtime"
	printf 'Etc/UTC\n' >"$rootfs/etc/timezone"

	mapfile -d '' files < <(find "$HOST_PG15/bin" "$HOST_PG15/lib" -type f \( -perm -u+x -o -name '*.so' -o -name '*.so.*' \) -print0)
	while read -r lib; do
		copy_library "$rootfs" "$lib"
	done < <(libraries_of "${files[@]}")
	[[ -e $rootfs/lib64/ld-linux-x86-64.so.2 ]] || copy_library "$rootfs" /lib64/ld-linux-x86-64.so.2

	cp /bin/busybox "$rootfs/usr/bin/busybox"
	for applet in "${BUSYBOX_APPLETS[@]}"; do
		[[ -e $rootfs/usr/bin/$applet ]] || ln -s busybox "$rootfs/usr/bin/$applet"
	done

	cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
EOF
	printf '/bin/sh\n' >"$rootfs/etc/shells"
}

# write_accounts ROOTFS UID HOME: /etc/passwd and /etc/group with root, postgres
# (uid = gid = UID) and nobody.
write_accounts() {
	local rootfs=$1 uid=$2 home=$3
	rm -f "$rootfs/etc/passwd" "$rootfs/etc/group"
	cat >"$rootfs/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
postgres:x:$uid:$uid:PostgreSQL administrator:$home:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/bin/nologin
EOF
	cat >"$rootfs/etc/group" <<EOF
root:x:0:
postgres:x:$uid:
nogroup:x:65534:
EOF
}

# add_official_entrypoint ROOTFS: the official image's entrypoint, data directory
# and init directory; the postgres user must exist in ROOTFS already.
add_official_entrypoint() {
	local rootfs=$1 uid gid
	uid=$(awk -F: '$1 == "postgres" { print $3 }' "$rootfs/etc/passwd")
	gid=$(awk -F: '$1 == "postgres" { print $4 }' "$rootfs/etc/passwd")
	[[ -n $uid && -n $gid ]] || die "no postgres user in $rootfs/etc/passwd"
	rm -f "$rootfs/docker-entrypoint.sh"
	install -m 0755 "$OFFICIAL_ENTRYPOINT" "$rootfs/docker-entrypoint.sh"
	# /var/run is a symlink to /run in both root filesystems (absolute in Debian's:
	# never follow it from the host); use /run directly.
	mkdir -p "$rootfs/usr/local/bin" "$rootfs/docker-entrypoint-initdb.d" \
		"$rootfs/var/lib/postgresql/data" "$rootfs/run/postgresql"
	ln -sfn /docker-entrypoint.sh "$rootfs/usr/local/bin/docker-entrypoint.sh"
	chown "$uid:$gid" "$rootfs/var/lib/postgresql" "$rootfs/var/lib/postgresql/data" "$rootfs/run/postgresql"
	chmod 1777 "$rootfs/var/lib/postgresql/data"
	chmod 3777 "$rootfs/run/postgresql"
}

# official_changes MAJOR PATH: the image configuration of the official-style images.
official_changes() {
	local major=$1 path=$2
	printf '%s\n' \
		'ENTRYPOINT ["/docker-entrypoint.sh"]' \
		'CMD ["postgres"]' \
		"ENV PATH=$path" \
		"ENV PG_MAJOR=$major" \
		'ENV PGDATA=/var/lib/postgresql/data' \
		'VOLUME ["/var/lib/postgresql/data"]' \
		'EXPOSE 5432'
}

build_host_pg15_images() {
	local need15=() needsclorg=() version15 versionsclorg base variant start engine changes=()
	version15=$(content_version "$IMAGE_PG15" "postgresql-15=$(host_pg15_version)")
	versionsclorg=$(content_version "$IMAGE_SCLORG" "postgresql-15=$(host_pg15_version)")
	mapfile -t need15 < <(engines_needing "$IMAGE_PG15" "$version15")
	mapfile -t needsclorg < <(engines_needing "$IMAGE_SCLORG" "$versionsclorg")
	if ((${#need15[@]} == 0 && ${#needsclorg[@]} == 0)); then
		return
	fi

	base="$(work_dir)/pg15-base"
	start=$(now)
	assemble_host_pg15_base "$base"
	log "assembled the host PostgreSQL 15 root filesystem ($(du -sh "$base" | cut -f1)) in $(elapsed "$start")"

	if ((${#need15[@]} > 0)); then
		variant="$(work_dir)/pg15-official"
		cp -al "$base" "$variant"
		write_accounts "$variant" "$OFFICIAL_UID" /var/lib/postgresql
		add_official_entrypoint "$variant"
		mapfile -t changes < <(official_changes 15 /usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin)
		changes+=('ENV LANG=C.UTF-8')
		for engine in "${need15[@]}"; do
			import_rootfs "$engine" "$IMAGE_PG15" "$version15" "$variant" SIGINT "${changes[@]}"
		done
		remove_tree "$variant"
	fi

	if ((${#needsclorg[@]} > 0)); then
		variant="$(work_dir)/pg15-sclorg"
		cp -al "$base" "$variant"
		write_accounts "$variant" "$SCLORG_UID" /var/lib/pgsql
		rm -f "$variant/usr/bin/run-postgresql" "$variant/usr/bin/container-entrypoint"
		install -m 0755 "$SCLORG_ENTRYPOINT" "$variant/usr/bin/run-postgresql"
		printf '#!/bin/sh\nexec "$@"\n' >"$variant/usr/bin/container-entrypoint"
		chmod 0755 "$variant/usr/bin/container-entrypoint"
		mkdir -p "$variant/var/lib/pgsql/data" "$variant/run/postgresql"
		chown "$SCLORG_UID:$SCLORG_UID" "$variant/var/lib/pgsql" "$variant/var/lib/pgsql/data" "$variant/run/postgresql"
		chmod 0700 "$variant/var/lib/pgsql/data"
		chmod 0775 "$variant/run/postgresql"
		changes=(
			'ENTRYPOINT ["container-entrypoint"]'
			'CMD ["run-postgresql"]'
			'USER 26'
			'WORKDIR /var/lib/pgsql'
			'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin'
			'ENV LANG=C.UTF-8'
			'ENV HOME=/var/lib/pgsql'
			'ENV PGUSER=postgres'
			'ENV POSTGRESQL_VERSION=15'
			'EXPOSE 5432'
		)
		for engine in "${needsclorg[@]}"; do
			import_rootfs "$engine" "$IMAGE_SCLORG" "$versionsclorg" "$variant" SIGTERM "${changes[@]}"
		done
		remove_tree "$variant"
	fi
	remove_tree "$base"
}

# ------------------------------------------------ Debian trixie + PostgreSQL 17 --

# debian_mirror: the URI of the host's main Debian suite, read from apt's sources.
debian_mirror() {
	local uri=
	if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
		uri=$(awk '
			function flush() {
				if (!found && uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && main) { split(uris, u, /[ \t]+/); print u[1]; found = 1 }
				uris = ""; types = ""; main = 0
			}
			/^[ \t]*$/ { flush(); next }
			/^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
			/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
			/^Suites:/ { n = split(substr($0, 8), s, /[ \t]+/); for (i = 1; i <= n; i++) if (s[i] != "" && s[i] !~ /[-\/]/) main = 1 }
			END { flush() }
		' /etc/apt/sources.list.d/debian.sources)
	fi
	if [[ -z $uri && -r /etc/apt/sources.list ]]; then
		uri=$(awk '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) !~ /[-\/]/) { print $i; exit }
			}
		' /etc/apt/sources.list)
	fi
	[[ -n $uri ]] || die "could not find the Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
	printf '%s\n' "${uri%/}"
}

# cache_pg17_rootfs: debootstraps Debian trixie with PostgreSQL 17 into the cache
# tarball unless it is there already.
cache_pg17_rootfs() {
	local rootfs mirror start
	if [[ -s $PG17_CACHE ]]; then
		log "using the cached root filesystem $PG17_CACHE"
		return
	fi
	command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found: run scripts/setup-engines.sh"
	mirror=$(debian_mirror)
	rootfs="$(work_dir)/trixie"
	log "debootstrapping Debian $PG17_SUITE with $PG17_PACKAGES from $mirror (about a minute)"
	start=$(now)
	if ! debootstrap --variant=minbase --include="$PG17_PACKAGES" "$PG17_SUITE" "$rootfs" "$mirror" \
		>"$(work_dir)/debootstrap.log" 2>&1; then
		tail -n 30 "$(work_dir)/debootstrap.log" >&2
		[[ -f $rootfs/debootstrap/debootstrap.log ]] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
		die "debootstrap failed"
	fi
	log "debootstrap took $(elapsed "$start")"

	start=$(now)
	# The official image's locale (LANG=en_US.utf8).
	chroot "$rootfs" localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
	# The package's own cluster; the entrypoint makes one in PGDATA instead.
	rm -rf "$rootfs/var/lib/postgresql/17/main" "$rootfs/etc/postgresql/17/main"
	rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"* "$rootfs/debootstrap"
	unmount_below "$rootfs"
	mkdir -p "$CACHE_DIR"
	tar --numeric-owner -C "$rootfs" -cf "$PG17_CACHE.tmp" .
	mv "$PG17_CACHE.tmp" "$PG17_CACHE"
	log "cached the root filesystem as $PG17_CACHE ($(du -sh "$PG17_CACHE" | cut -f1)) in $(elapsed "$start")"
	remove_tree "$rootfs"
}

# renumber_postgres ROOTFS ID: gives the postgres user and group of a Debian root
# filesystem the uid and gid ID (999 in the official image; Debian picks a system
# id such as 100) and moves the ownership of their files along.
renumber_postgres() {
	local rootfs=$1 id=$2 old_uid old_gid
	old_uid=$(awk -F: '$1 == "postgres" { print $3 }' "$rootfs/etc/passwd")
	old_gid=$(awk -F: '$1 == "postgres" { print $3 }' "$rootfs/etc/group")
	[[ -n $old_uid && -n $old_gid ]] || die "no postgres user or group in $rootfs"
	if [[ $old_uid == "$id" && $old_gid == "$id" ]]; then
		return
	fi
	if awk -F: -v id="$id" '$1 != "postgres" && $3 == id { found = 1 } END { exit !found }' "$rootfs/etc/passwd" "$rootfs/etc/group"; then
		log "note: id $id is taken in the Debian root filesystem; postgres keeps uid $old_uid"
		return
	fi
	find "$rootfs" -xdev -uid "$old_uid" -exec chown -h "$id" {} +
	find "$rootfs" -xdev -gid "$old_gid" -exec chgrp -h "$id" {} +
	awk -F: -v OFS=: -v id="$id" -v g="$old_gid" '$1 == "postgres" { $3 = id; $4 = id } $1 != "postgres" && $4 == g { $4 = id } { print }' \
		"$rootfs/etc/passwd" >"$rootfs/etc/passwd.new"
	awk -F: -v OFS=: -v id="$id" '$1 == "postgres" { $3 = id } { print }' "$rootfs/etc/group" >"$rootfs/etc/group.new"
	chmod 644 "$rootfs/etc/passwd.new" "$rootfs/etc/group.new"
	mv "$rootfs/etc/passwd.new" "$rootfs/etc/passwd"
	mv "$rootfs/etc/group.new" "$rootfs/etc/group"
}

build_pg17_image() {
	local need=() version rootfs start engine changes=()
	version=$(content_version "$IMAGE_PG17" "$PG17_SUITE" "$PG17_PACKAGES")
	mapfile -t need < <(engines_needing "$IMAGE_PG17" "$version")
	if ((${#need[@]} == 0)); then
		return
	fi
	cache_pg17_rootfs
	rootfs="$(work_dir)/pg17"
	mkdir -p "$rootfs"
	start=$(now)
	tar --numeric-owner -C "$rootfs" -xpf "$PG17_CACHE"
	[[ -x $rootfs/usr/lib/postgresql/17/bin/postgres ]] || die "$PG17_CACHE holds no PostgreSQL 17: remove it and re-run"
	renumber_postgres "$rootfs" "$OFFICIAL_UID"
	add_official_entrypoint "$rootfs"
	log "prepared the PostgreSQL 17 root filesystem in $(elapsed "$start")"
	mapfile -t changes < <(official_changes 17 /usr/lib/postgresql/17/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
	changes+=('ENV LANG=en_US.utf8')
	for engine in "${need[@]}"; do
		import_rootfs "$engine" "$IMAGE_PG17" "$version" "$rootfs" SIGINT "${changes[@]}"
	done
	remove_tree "$rootfs"
}

# ------------------------------------------------------------------- check --

# api_status URL PATH: the HTTP status of GET PATH on the engine API at URL (000
# when the engine cannot be reached).
api_status() {
	local url=$1 path=$2
	case $url in
	unix://*) curl -s -o /dev/null -w '%{http_code}' --max-time 10 --unix-socket "${url#unix://}" "http://d$path" || true ;;
	*) curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${url/#tcp:/http:}$path" || true ;;
	esac
}

check_images() {
	local engine url image missing=0
	local images=(
		"${PACKIT_TEST_IMAGE_15:-$IMAGE_PG15}"
		"${PACKIT_TEST_IMAGE_17:-$IMAGE_PG17}"
		"${PACKIT_TEST_IMAGE_SCLORG:-$IMAGE_SCLORG}"
	)
	for engine in $(selected_engines); do
		if [[ $engine == docker ]]; then url=$(docker_url); else url=$(podman_url); fi
		if [[ $(api_status "$url" /_ping) != 200 ]]; then
			log "$engine does not answer on $url (see scripts/setup-engines.sh)"
			missing=1
			continue
		fi
		for image in "${images[@]}"; do
			if [[ $(api_status "$url" "/images/$image/json") == 200 ]]; then
				log "$engine has $image"
			else
				log "$engine ($url) does NOT have $image"
				missing=1
			fi
		done
	done
	if ((missing)); then
		die "test images are missing or the engine is unreachable: build them with 'sudo scripts/build-test-images.sh' (a rootless Podman needs the images imported as that user)"
	fi
}

# -------------------------------------------------------------------- main --

main() {
	local start
	if [[ ${1:-} == --check ]] || ((EUID != 0)); then
		check_images
		return
	fi
	[[ $# -eq 0 ]] || die "usage: $0 [--check]"
	[[ -r $OFFICIAL_ENTRYPOINT && -r $SCLORG_ENTRYPOINT ]] || die "entrypoints not found under $REPO_ROOT/images"
	local engine
	for engine in $(selected_engines); do
		command -v "$engine" >/dev/null 2>&1 || die "$engine CLI not found: run scripts/setup-engines.sh"
		engine "$engine" info >/dev/null 2>&1 || die "$engine does not answer: run scripts/setup-engines.sh"
	done

	trap cleanup EXIT
	trap 'exit 130' INT TERM
	WORK_DIR=$(mktemp -d /var/tmp/packit-db-test-images.XXXXXX)
	start=$(now)
	build_host_pg15_images
	build_pg17_image
	# Images replaced while a container still used them: remove them once unused.
	for engine in $(selected_engines); do
		engine "$engine" image prune -f --filter "label=$VERSION_LABEL" >/dev/null 2>&1 || true
	done
	log "all test images ready in $(elapsed "$start")"
}

main "$@"
