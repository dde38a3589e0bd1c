"""Workload: a multiprocessing Pool (fork, pipes, semaphores in /dev/shm)."""
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(2) as pool:
        assert pool.map(square, range(10)) == [x * x for x in range(10)]
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=q.put, args=(42,))
    p.start()
    assert q.get(timeout=10) == 42
    p.join()
    print("OK multiproc")
