package hub.tools;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Neo4j 5 Community with Bolt on 127.0.0.1, for the hub's tests, CI and benchmarks.
 *
 * <p>Usage: {@code java -jar neo4j-server.jar --dir DIR [--port N] [--password PW]
 * [--pagecache-mb N]}. Port 0 (the default) lets the system pick a free port. Auth is on: the
 * {@code neo4j} user gets the given password (default {@code hub-test-password}) with no change
 * required. When Bolt listens the process prints one line, {@code neo4j-server ready
 * bolt://127.0.0.1:PORT}, and it shuts the DBMS down cleanly on SIGTERM or SIGINT (then prints
 * {@code neo4j-server stopped}).
 */
public final class Neo4jServer {
    private Neo4jServer() {}

    public static void main(String[] args) throws Exception {
        Path dir = null;
        int port = 0;
        String password = "hub-test-password";
        long pagecacheMb = 128;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--dir" -> dir = Path.of(require(args[i], value));
                case "--port" -> port = Integer.parseInt(require(args[i], value));
                case "--password" -> password = require(args[i], value);
                case "--pagecache-mb" -> pagecacheMb = Long.parseLong(require(args[i], value));
                default -> usage("unknown argument " + args[i]);
            }
            i++;
        }
        if (dir == null) {
            usage("--dir is required");
        }
        if (password.length() < 8) {
            usage("Neo4j 5 wants a password of at least 8 characters");
        }

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(dir)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pagecacheMb))
                // Bolt's Netty loops wait out a 5 s quiet period (15 s at most) on shutdown by
                // default: a test run stops one server per worker, so close at once.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(2))
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            System.out.println("neo4j-server stopped");
            System.out.flush();
            stopped.countDown();
        }, "neo4j-server-shutdown"));

        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        system.executeTransactionally(
                "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                Map.of("password", password));
        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        int bound = ((GraphDatabaseAPI) db).getDependencyResolver()
                .resolveDependency(ConnectorPortRegister.class)
                .getLocalAddress(ConnectorType.BOLT)
                .getPort();
        System.out.println("neo4j-server ready bolt://127.0.0.1:" + bound);
        System.out.flush();
        stopped.await();
    }

    private static String require(String flag, String value) {
        if (value == null) {
            usage(flag + " needs a value");
        }
        return value;
    }

    private static void usage(String problem) {
        System.err.println("neo4j-server: " + problem);
        System.err.println(
                "usage: java -jar neo4j-server.jar --dir DIR [--port N] [--password PW] [--pagecache-mb N]");
        System.exit(2);
    }
}
