"""Run a function in a real multi-process (gloo, CPU) group, for tests."""
import torch
import torch.distributed as torch_dist


def _rank_main(rank, world_size, init_file, work, args, out_file):
    torch.set_num_threads(1)
    torch_dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank,
        world_size=world_size)
    try:
        result = work(*args)
        if rank == 0:
            torch.save(result, out_file)
    finally:
        torch_dist.destroy_process_group()


def run_distributed(work, args, tmp_path, world_size=2):
    """``work(*args)`` on every rank; returns what rank 0's call returned.

    ``work`` must be a module-level function (the ranks import it) and its
    rank-0 result must load with ``torch.load(weights_only=True)``.
    """
    out_file = str(tmp_path / 'rank0_result.pth')
    torch.multiprocessing.spawn(
        _rank_main,
        args=(world_size, str(tmp_path / 'init'), work, args, out_file),
        nprocs=world_size)
    return torch.load(out_file, weights_only=True)
