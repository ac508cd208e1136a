package io.idlewatch.sweeper.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/** A small bounded fan-out for engine calls; the engine, not our CPU, is the limit. */
final class Parallel {

    private Parallel() {
    }

    /**
     * Applies {@code task} to every item, at most {@code parallelism} at once, and returns the
     * results in the items' order. Waits for every task even when interrupted — a removal under way
     * is finished, never abandoned — and keeps the interrupt for the caller. {@code task} must turn
     * its own failures into results.
     */
    static <T, R> List<R> map(List<T> items, int parallelism, String threadName, Function<T, R> task) {
        if (items.isEmpty()) {
            return List.of();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, items.size()), runnable -> {
            Thread thread = new Thread(runnable, threadName);
            thread.setDaemon(true);
            return thread;
        });
        try {
            List<Future<R>> running = new ArrayList<>();
            for (T item : items) {
                running.add(pool.submit(() -> task.apply(item)));
            }
            List<R> results = new ArrayList<>();
            boolean interrupted = false;
            for (Future<R> each : running) {
                while (true) {
                    try {
                        results.add(each.get());
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    } catch (ExecutionException bug) {
                        throw new IllegalStateException(bug.getCause());
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return results;
        } finally {
            pool.shutdown();
        }
    }
}
