/*
 * JavaBench: chute-bench's workload through Kafka's Java producer
 * (kafka-clients), driven by chute-bench over stdin and stdout.
 *
 *   java -jar chute-java-bench.jar -b BOOTSTRAP -t TOPIC -N RECORDS
 *        -S SIZE -k KEYS [-w WARMUP]
 *
 * The records are chute-bench's: record i has the key "key-(i % KEYS)" and
 * a value of SIZE bytes 'a'..'z' in turn whose first 8 bytes are i (little
 * endian, as chute-bench's memcpy on x86).  The producer runs with lz4,
 * linger.ms=5, acks=all, idempotence and 5 requests in flight, as
 * chute-bench's librdkafka side; keyed records go through the default
 * partitioner (murmur2).  Everything else keeps the client's defaults.
 *
 * Protocol: set up, send WARMUP records and flush them (so the JIT has
 * compiled the send path and the connections and producer id exist), then
 * print "ready".  A line on stdin starts the measured run; EOF instead means
 * chute-bench went away, and the program exits 1.  After RECORDS sends, a
 * flush and close(), it prints
 *
 *   result sent=N failed=N bytes=N cpu_ns=N samples=K
 *
 * and K lines, each the duration in ns of one send() call (every 16th).
 * cpu_ns is the CPU time of the whole JVM (every thread: the caller, the
 * producer's I/O thread, JIT and GC) from the start line to the end of
 * close(): JVM start-up and warm-up are not in it.  Log output of the
 * client (warnings and errors only) goes to stderr.
 */
package chute.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class JavaBench {
    private static final int SAMPLE_EVERY = 16;

    private final Options opts;
    private final KafkaProducer<byte[], byte[]> producer;
    private final byte[][] keys;
    private final byte[] value;
    private final AtomicLong failed = new AtomicLong();
    private final Callback onDone = this::onCompletion;
    private long sent, bytes;

    private JavaBench(Options opts) {
        this.opts = opts;
        this.producer =
            new KafkaProducer<>(producerConfig(opts.bootstrap, opts.codec));
        this.keys = new byte[(int) opts.keys][];
        for (int k = 0; k < keys.length; k++)
            keys[k] = ("key-" + k).getBytes(StandardCharsets.US_ASCII);
        this.value = new byte[(int) opts.size];
        for (int i = 0; i < value.length; i++)
            value[i] = (byte) ('a' + i % 26);
    }

    private static Properties producerConfig(String bootstrap, String codec) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
              ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
              ByteArraySerializer.class.getName());
        return p;
    }

    private void onCompletion(RecordMetadata metadata, Exception e) {
        if (e != null && failed.getAndIncrement() == 0)
            System.err.println("java-bench: delivery failed: " + e);
    }

    /* The value array is reused: send() serializes the record into its
     * batch before it returns, so the next record may overwrite it. */
    private void stamp(long i) {
        if (value.length < 8)
            return; /* chute-bench stamps only values of 8 bytes or more */
        for (int b = 0; b < 8; b++)
            value[b] = (byte) (i >>> (8 * b));
    }

    /* One send(); a record send() refuses counts as failed, as a
     * producev() error does in chute-bench. */
    private void send(long i) {
        stamp(i);
        byte[] key = keys[(int) (i % keys.length)];
        try {
            producer.send(new ProducerRecord<>(opts.topic, key, value), onDone);
            sent++;
            bytes += key.length + value.length;
        } catch (KafkaException e) {
            if (failed.getAndIncrement() == 0)
                System.err.println("java-bench: send: " + e);
        }
    }

    private void warmUp() {
        for (long i = 0; i < opts.warmup; i++)
            send(i);
        producer.flush();
        sent = bytes = 0;
        failed.set(0);
    }

    private long[] run() {
        long[] samples = new long[(int) (opts.records / SAMPLE_EVERY + 1)];
        int n = 0;

        for (long i = 0; i < opts.records; i++) {
            long t0 = System.nanoTime();
            send(i);
            if (i % SAMPLE_EVERY == 0)
                samples[n++] = System.nanoTime() - t0;
        }
        producer.flush();
        producer.close();
        return Arrays.copyOf(samples, n);
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                    ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    }

    private void report(long cpu, long[] samples) throws IOException {
        BufferedWriter out = new BufferedWriter(
            new OutputStreamWriter(System.out, StandardCharsets.US_ASCII),
            1 << 16);
        out.write("result sent=" + sent + " failed=" + failed.get() +
                  " bytes=" + bytes + " cpu_ns=" + cpu +
                  " samples=" + samples.length + "\n");
        for (long s : samples)
            out.write(Long.toString(s) + "\n");
        out.flush();
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        JavaBench bench = new JavaBench(Options.parse(args));
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.US_ASCII));

        bench.warmUp();
        System.out.println("ready");
        System.out.flush();
        if (in.readLine() == null)
            System.exit(1);
        long cpu0 = cpuNanos();
        long[] samples = bench.run();
        bench.report(cpuNanos() - cpu0, samples);
    }

    /* The command line, as chute-bench writes it. */
    private static final class Options {
        String bootstrap, topic, codec = "lz4";
        long records = -1, size = -1, keys = -1, warmup;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i + 1 < args.length; i += 2)
                o.set(args[i], args[i + 1]);
            if (args.length % 2 != 0 || o.bootstrap == null ||
                o.topic == null || o.records < 0 || o.size < 0 || o.keys < 1)
                usage();
            return o;
        }

        private void set(String flag, String v) {
            switch (flag) {
            case "-b": bootstrap = v; break;
            case "-t": topic = v; break;
            case "-N": records = Long.parseLong(v); break;
            case "-S": size = Long.parseLong(v); break;
            case "-k": keys = Long.parseLong(v); break;
            case "-w": warmup = Long.parseLong(v); break;
            case "-z": codec = v; break;
            default: usage();
            }
        }

        private static void usage() {
            System.err.println("usage: java -jar chute-java-bench.jar -b "
                               + "BOOTSTRAP -t TOPIC -N RECORDS -S SIZE "
                               + "-k KEYS [-w WARMUP] [-z CODEC]");
            System.exit(2);
        }
    }
}
