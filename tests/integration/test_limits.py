#!/usr/bin/python3
"""Bounds on what clients can make the broker keep, over raw Kafka frames.

  test_limits.py PORT

Against sluiced started with group.max.size=2, group.max.count=3 and
max.broker.partitions=60 on the default config (telemetry and orders, one
partition each; __consumer_offsets' 50 come with the first group request):
  - a group takes two new members (JoinGroup v4: pending, MEMBER_ID_REQUIRED),
    the third gets GROUP_MAX_SIZE_REACHED;
  - standalone commits make groups two and three, a fourth group is refused
    GROUP_MAX_SIZE_REACHED, by OffsetCommit and by JoinGroup alike, while
    commits to the existing groups still go through;
  - CreateTopics of 8 partitions reaches 60 exactly, one more partition is
    INVALID_PARTITIONS.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_groups_protocol as gp  # noqa: E402

GROUP_MAX_SIZE_REACHED = 81
INVALID_PARTITIONS = 37


def commit(c, group, offset):
    res = gp.offset_commit(c, group, -1, "", {"orders": [(0, offset, "", -1)]})
    return res["orders"][0]


def main():
    c = gp.Conn(int(sys.argv[1]))
    gp.expect(gp.join_group(c, "lim-g1", "")["error"], gp.MEMBER_ID_REQUIRED, "member 1")
    gp.expect(gp.join_group(c, "lim-g1", "")["error"], gp.MEMBER_ID_REQUIRED, "member 2")
    gp.expect(gp.join_group(c, "lim-g1", "")["error"], GROUP_MAX_SIZE_REACHED,
              "member 3 of a group of group.max.size=2")
    gp.ok("group.max.size: the third member of a group of at most two is refused (81)")

    gp.expect(commit(c, "lim-g2", 1), gp.NONE, "standalone commit making group 2")
    gp.expect(commit(c, "lim-g3", 1), gp.NONE, "standalone commit making group 3")
    gp.expect(commit(c, "lim-g4", 1), GROUP_MAX_SIZE_REACHED, "a fourth group by commit")
    gp.expect(gp.join_group(c, "lim-g5", "")["error"], GROUP_MAX_SIZE_REACHED,
              "a fourth group by JoinGroup")
    gp.expect(commit(c, "lim-g2", 2), gp.NONE, "a commit to an existing group")
    gp.ok("group.max.count: no fourth group, by OffsetCommit or JoinGroup (81); "
          "existing groups still commit")

    gp.expect(gp.create_topic(c, "lim-t8", 8), gp.NONE, "8 partitions up to 60 in all")
    gp.expect(gp.create_topic(c, "lim-t1", 1), INVALID_PARTITIONS, "partition 61")
    gp.ok("max.broker.partitions: a topic past 60 partitions in all is refused (37)")
    c.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (gp.TestFailure, OSError) as e:
        print("FAIL: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
