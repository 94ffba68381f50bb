#!/usr/bin/python3
"""A passthrough FUSE file system that fails writes on demand (EIO).

  faultfs.py BACKING_DIR MOUNTPOINT SWITCH_FILE

Every file operation goes to BACKING_DIR.  While SWITCH_FILE exists, write,
fsync, fallocate and truncate fail with EIO -- what a dying disk gives the
daemon: the kernel hands the error to io_uring exactly as it would from a
block device.  Reads keep working.  Runs in the foreground until unmounted.
"""
import errno
import os
import sys

from fusepy import FUSE, FuseOSError, Operations


class FaultFS(Operations):
    def __init__(self, root, switch):
        self.root = root
        self.switch = switch

    def _p(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _maybe_fail(self):
        if os.path.exists(self.switch):
            raise FuseOSError(errno.EIO)

    # metadata
    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        return {k: getattr(st, k) for k in ("st_atime", "st_ctime", "st_gid", "st_mode",
                                           "st_mtime", "st_nlink", "st_size", "st_uid")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def statfs(self, path):
        sv = os.statvfs(self._p(path))
        return {k: getattr(sv, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize",
                                           "f_favail", "f_ffree", "f_files", "f_flag",
                                           "f_frsize", "f_namemax")}

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def unlink(self, path):
        os.unlink(self._p(path))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def utimens(self, path, times=None):
        os.utime(self._p(path), times)

    # data
    def open(self, path, flags):
        return os.open(self._p(path), flags & ~os.O_DIRECT)

    def create(self, path, mode, fi=None):
        return os.open(self._p(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        self._maybe_fail()
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        self._maybe_fail()
        os.truncate(self._p(path), length)

    def fsync(self, path, datasync, fh):
        self._maybe_fail()
        os.fdatasync(fh) if datasync else os.fsync(fh)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)


if __name__ == "__main__":
    FUSE(FaultFS(sys.argv[1], sys.argv[3]), sys.argv[2], foreground=True, nothreads=False,
         allow_other=True)
