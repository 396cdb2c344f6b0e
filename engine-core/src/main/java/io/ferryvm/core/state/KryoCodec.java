package io.ferryvm.core.state;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.RecordSerializer;
import com.esotericsoftware.kryo.util.Pool;
import io.ferryvm.core.CoreException;
import java.lang.reflect.Array;
import java.util.List;
import java.util.function.Consumer;

/**
 * Kryo with explicit registration (an unregistered class is refused, never instantiated by name) and
 * arrays whose decoded length is checked against the bytes left before anything is allocated. Records go
 * through their canonical constructor, so their own validation runs on decode.
 */
public final class KryoCodec {
    private final Pool<Kryo> pool;
    private final int maxBytes;

    /** registrations: classes in a fixed order (their ids are part of the format). */
    public KryoCodec(List<Class<?>> registrations, int maxBytes) {
        this(kryo -> {
            for (Class<?> c : registrations) {
                register(kryo, c);
            }
        }, maxBytes);
    }

    /** A codec whose Kryo instances are set up by the given registrar (custom serializers allowed). */
    public KryoCodec(Consumer<Kryo> registrar, int maxBytes) {
        this.maxBytes = maxBytes;
        this.pool = new Pool<>(true, false, 16) {
            @Override
            protected Kryo create() {
                Kryo k = new Kryo();
                k.setRegistrationRequired(true);
                k.setReferences(false);
                k.setMaxDepth(32);
                registrar.accept(k);
                return k;
            }
        };
    }

    /** Registers c with the serializer Ferry uses for its kind (records, bounded arrays, others by default). */
    public static void register(Kryo kryo, Class<?> c) {
        if (c.isRecord()) {
            kryo.register(c, new RecordSerializer<>());
        } else if (c.isArray()) {
            kryo.register(c, new BoundedArraySerializer(c.getComponentType()));
        } else {
            kryo.register(c);
        }
    }

    public byte[] encode(Object value) {
        Kryo k = pool.obtain();
        try (Output out = new Output(256, maxBytes)) {
            k.writeClassAndObject(out, value);
            return out.toBytes();
        } catch (KryoException e) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, "state does not encode within " + maxBytes + " bytes: " + e.getMessage(), e);
        } finally {
            pool.free(k);
        }
    }

    /** Decodes bytes into a value of the expected type; where names the input in errors. */
    public <T> T decode(byte[] bytes, int off, int len, Class<T> type, String where) {
        if (len > maxBytes) {
            throw new CoreException(CoreException.Kind.CORRUPT_STATE, where + ": state of " + len + " bytes exceeds " + maxBytes);
        }
        Kryo k = pool.obtain();
        try {
            Input in = new Input(bytes, off, len);
            Object v = k.readClassAndObject(in);
            if (in.position() != off + len) {
                throw new CoreException(CoreException.Kind.CORRUPT_STATE,
                        where + ": " + (off + len - in.position()) + " trailing bytes after the state");
            }
            if (!type.isInstance(v)) {
                throw new CoreException(CoreException.Kind.CORRUPT_STATE,
                        where + ": expected " + type.getSimpleName() + ", found " + (v == null ? "null" : v.getClass().getSimpleName()));
            }
            return type.cast(v);
        } catch (KryoException | IllegalArgumentException | IndexOutOfBoundsException | NegativeArraySizeException
                | NullPointerException e) {
            throw new CoreException(CoreException.Kind.CORRUPT_STATE, where + ": state does not decode: " + rootMessage(e), e);
        } finally {
            pool.free(k);
        }
    }

    /** The innermost message (a record's own validation), without Kryo's serialization trace. */
    public static String rootMessage(Throwable e) {
        Throwable t = e;
        String msg = null;
        while (t != null) {
            if (t.getMessage() != null && !(t instanceof java.lang.reflect.InvocationTargetException)) {
                msg = t.getMessage();
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        if (msg == null) {
            return e.getClass().getSimpleName();
        }
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }

    /** Arrays whose length is checked against the remaining input before allocation. */
    static final class BoundedArraySerializer extends Serializer<Object> {
        private final Class<?> component;

        BoundedArraySerializer(Class<?> component) {
            this.component = component;
            setAcceptsNull(true);
        }

        @Override
        public void write(Kryo kryo, Output output, Object array) {
            if (array == null) {
                output.writeVarInt(0, true);
                return;
            }
            int n = Array.getLength(array);
            output.writeVarInt(n + 1, true);
            if (component == byte.class) {
                output.writeBytes((byte[]) array);
            } else if (component == long.class) {
                output.writeLongs((long[]) array, 0, n);
            } else if (component == int.class) {
                output.writeInts((int[]) array, 0, n);
            } else {
                for (int i = 0; i < n; i++) {
                    kryo.writeObjectOrNull(output, Array.get(array, i), component);
                }
            }
        }

        @Override
        public Object read(Kryo kryo, Input input, Class<?> type) {
            int n = input.readVarInt(true) - 1;
            if (n < 0) {
                return null;
            }
            // Every element takes at least one byte (longs 8 when fixed): a length beyond what is left is a lie.
            int left = input.limit() - input.position();
            int minBytes = component == long.class ? 8 : component == int.class ? 4 : 1;
            if (n > left / minBytes) {
                throw new KryoException("array of " + n + " " + component.getSimpleName() + " elements, only " + left
                        + " bytes left");
            }
            if (component == byte.class) {
                return input.readBytes(n);
            }
            if (component == long.class) {
                return input.readLongs(n);
            }
            if (component == int.class) {
                return input.readInts(n);
            }
            Object a = Array.newInstance(component, n);
            for (int i = 0; i < n; i++) {
                Array.set(a, i, kryo.readObjectOrNull(input, component));
            }
            return a;
        }
    }
}
