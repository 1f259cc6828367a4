"""The scheduler: single writer of run state; queue, placement, dispatch."""
