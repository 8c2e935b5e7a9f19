// Writes the protobuf file descriptors compiled into Hadoop's jars to stdout.
//
// Hadoop ships no .proto files in its jars, but every generated outer class
// (for example org.apache.hadoop.yarn.proto.YarnProtos) embeds its file
// descriptor. This program loads the outer classes named on the command line,
// follows their imports, and prints one serialized
// google.protobuf.FileDescriptorSet holding every file exactly once.
//
// Hadoop relocates protobuf under org.apache.hadoop.thirdparty.protobuf, so the
// descriptor API is reached through reflection instead of compile-time types;
// that keeps this file free of any build step:
//
//     java -cp '<hadoop lib>/*' DumpDescriptors.java \
//         org.apache.hadoop.yarn.proto.YarnProtos ... > descriptors.pb
//
// Exit status: 0 on success, 2 for bad usage or a class that cannot be loaded.

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class DumpDescriptors {

    // FileDescriptorSet.file is field 1 of wire type 2 (length-delimited).
    private static final int FILE_FIELD_TAG = (1 << 3) | 2;

    private DumpDescriptors() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: DumpDescriptors <outer class name>...");
            System.exit(2);
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        Deque<Object> pending = new ArrayDeque<>();
        for (String className : args) {
            Class<?> outer;
            try {
                outer = Class.forName(className);
            } catch (ClassNotFoundException e) {
                System.err.println("class not found: " + className);
                System.exit(2);
                return;
            }
            pending.add(outer.getMethod("getDescriptor").invoke(null));
        }
        while (!pending.isEmpty()) {
            Object descriptor = pending.removeFirst();
            String name = (String) call(descriptor, "getName");
            if (files.containsKey(name)) {
                continue;
            }
            Object proto = call(descriptor, "toProto");
            files.put(name, (byte[]) call(proto, "toByteArray"));
            for (Object dependency : (List<?>) call(descriptor, "getDependencies")) {
                pending.add(dependency);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] file : files.values()) {
            writeVarint(out, FILE_FIELD_TAG);
            writeVarint(out, file.length);
            out.write(file);
        }
        System.out.write(out.toByteArray());
        System.out.flush();
    }

    private static Object call(Object target, String method) throws Exception {
        Method m = target.getClass().getMethod(method);
        return m.invoke(target);
    }

    private static void writeVarint(OutputStream out, int value) throws IOException {
        while ((value & ~0x7F) != 0) {
            out.write((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write(value);
    }
}
