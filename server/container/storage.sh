# Where buildah and podman keep images and containers; sourced by build-image.sh and check-image.sh.
# vfs, which works without overlayfs. With GATEHOUSE_IMAGE_STORE set (the end-to-end run sets it
# under .data/), both use a storage of their own there instead of the machine's: podman records
# its storage settings in a database on first use and refuses to start when they differ
# ("database storage graph driver "" does not match"), so whatever another podman left on a
# machine cannot stop the check.
STORAGE_FLAGS=(--storage-driver vfs)
PODMAN_STATE_FLAGS=()
if [ -n "${GATEHOUSE_IMAGE_STORE:-}" ]; then
  STORAGE_FLAGS+=(--root "$GATEHOUSE_IMAGE_STORE/storage" --runroot "$GATEHOUSE_IMAGE_STORE/run")
  PODMAN_STATE_FLAGS=(--tmpdir "$GATEHOUSE_IMAGE_STORE/tmp")
fi
